package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

func wantConv(c journey.Conversion) journey.Conversion {
	c.At = utcMicro(c.At)
	return c
}

func callConversion(callID, visitorID string, d time.Duration) journey.Conversion {
	return journey.Conversion{ID: "call:twilio/" + callID, Type: journey.ConversionCall, At: at(d),
		VisitorID: visitorID, SessionID: "s1", Value: 5000, Currency: "USD", CallProvider: "twilio", CallID: callID}
}

func (s *suite) putConversionRoundTripsAndRequalifiedCallNeverDuplicates(t *testing.T) {
	st := s.newStore(t)
	c := callConversion("CA1", "v1", 0)
	require.NoError(t, st.PutConversion(t.Context(), c))
	c.Value = 7500 // re-qualified with another value
	require.NoError(t, st.PutConversion(t.Context(), c))
	require.NoError(t, st.PutConversion(t.Context(), c))
	got, err := st.ConversionsBetween(t.Context(), at(-time.Hour), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []journey.Conversion{wantConv(c)}, got)
}

func (s *suite) putConversionSameIDOtherTypeIsErrConflict(t *testing.T) {
	st := s.newStore(t)
	c := conversion("o1", "v1", 0, 100)
	require.NoError(t, st.PutConversion(t.Context(), c))
	c.Type = journey.ConversionForm
	require.ErrorIs(t, st.PutConversion(t.Context(), c), store.ErrConflict)
	got, err := st.ConversionsBetween(t.Context(), at(-time.Hour), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, journey.ConversionPurchase, got[0].Type)
}

func (s *suite) conversionsBetweenHalfOpenOrderedByTimeThenID(t *testing.T) {
	st := s.newStore(t)
	for _, c := range []journey.Conversion{
		conversion("b", "v1", time.Minute, 1), conversion("a", "v2", time.Minute, 1),
		conversion("first", "v1", 0, 1), conversion("atEnd", "v1", time.Hour, 1),
		conversion("before", "v1", -time.Microsecond, 1),
	} {
		require.NoError(t, st.PutConversion(t.Context(), c))
	}
	got, err := st.ConversionsBetween(t.Context(), at(0), at(time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"first", "a", "b"}, convIDs(got))
}

func (s *suite) conversionsOfPersonByVisitorAndSessionOrderedByTimeThenID(t *testing.T) {
	st := s.newStore(t)
	p, err := st.Link(t.Context(), visitor("v1"), user("u1"))
	require.NoError(t, err)
	require.NoError(t, st.PutSession(t.Context(), session("s1", "v1", 0)))
	bySession := conversion("bySession", "", 2*time.Minute, 1)
	bySession.SessionID = "s1"
	for _, c := range []journey.Conversion{
		conversion("byVisitor", "v1", time.Minute, 1), bySession, conversion("stranger", "v9", 0, 1),
		conversion("aTie", "v1", 2*time.Minute, 1), // as late as bySession: ordered by id
	} {
		require.NoError(t, st.PutConversion(t.Context(), c))
	}
	got, err := st.ConversionsOf(t.Context(), p)
	require.NoError(t, err)
	require.Equal(t, []string{"byVisitor", "aTie", "bySession"}, convIDs(got))
	none, err := st.ConversionsOf(t.Context(), "p_nobody")
	require.NoError(t, err)
	require.Empty(t, none)
}

func (s *suite) putConversionInvalidNamesFieldAndWritesNothing(t *testing.T) {
	st := s.newStore(t)
	cases := []struct {
		name   string
		mutate func(*journey.Conversion)
		field  string
	}{
		{"NegativeValue", func(c *journey.Conversion) { c.Value = -1 }, "value"},
		{"BadCurrency", func(c *journey.Conversion) { c.Currency = "usd" }, "currency"},
		{"EmptyType", func(c *journey.Conversion) { c.Type = "" }, "type"},
		{"CallWithoutCall", func(c *journey.Conversion) { c.Type = journey.ConversionCall }, "call_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conv := conversion("c-"+c.name, "v1", 0, 100)
			c.mutate(&conv)
			requireInvalid(t, st.PutConversion(t.Context(), conv), c.field)
			got, err := st.ConversionsBetween(t.Context(), at(-time.Hour), at(time.Hour))
			require.NoError(t, err)
			require.Empty(t, got)
		})
	}
}
