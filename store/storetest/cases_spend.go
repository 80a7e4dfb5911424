package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
)

// spendDay is a UTC midnight given in another zone, so round trips check
// that the store returns it in UTC.
func spendDay(n int) time.Time {
	return time.Date(2026, 3, 14+n, 0, 0, 0, 0, time.UTC).In(time.FixedZone("UTC-5", -5*3600))
}

func spendRow(n int, campaign string, amount int64) journey.Spend {
	return journey.Spend{Day: spendDay(n), Channel: "Paid Search", Source: "google", Medium: "cpc",
		Campaign: campaign, Currency: "USD", Amount: amount}
}

func (s *suite) putSpendRoundTripsEveryFieldInUTC(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	r := spendRow(0, "spring", 12_50)
	require.NoError(t, st.PutSpend(ctx, r))
	got, err := st.SpendBetween(ctx, spendDay(0), spendDay(1))
	require.NoError(t, err)
	r.Day = r.Day.UTC()
	require.Equal(t, []journey.Spend{r}, got)
	require.Equal(t, time.UTC, got[0].Day.Location())
}

func (s *suite) putSpendSameKeyReplacesTheAmount(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	require.NoError(t, st.PutSpend(ctx, spendRow(0, "spring", 100)))
	require.NoError(t, st.PutSpend(ctx, spendRow(0, "spring", 70)))
	require.NoError(t, st.PutSpend(ctx, spendRow(0, "spring", 70)), "repeating a write changes nothing")
	got, err := st.SpendBetween(ctx, spendDay(0), spendDay(1))
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, int64(70), got[0].Amount, "the amount replaces, it does not add")
}

func (s *suite) putSpendKeyIsDayChannelSourceMediumCampaignCurrency(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	base := spendRow(0, "spring", 1)
	variants := []func(*journey.Spend){
		func(r *journey.Spend) {},
		func(r *journey.Spend) { r.Day = spendDay(1) },
		func(r *journey.Spend) { r.Channel = "Paid Social" },
		func(r *journey.Spend) { r.Source = "bing" },
		func(r *journey.Spend) { r.Medium = "ppc" },
		func(r *journey.Spend) { r.Campaign = "summer" },
		func(r *journey.Spend) { r.Currency = "EUR" },
		func(r *journey.Spend) { r.Campaign = "" },
	}
	for _, v := range variants {
		r := base
		v(&r)
		require.NoError(t, st.PutSpend(ctx, r))
	}
	got, err := st.SpendBetween(ctx, spendDay(0), spendDay(2))
	require.NoError(t, err)
	require.Len(t, got, len(variants), "each part of the key makes another row")
}

func (s *suite) putSpendRepeatedKeyInOneCallLastWins(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	require.NoError(t, st.PutSpend(ctx, spendRow(0, "spring", 1), spendRow(0, "summer", 5), spendRow(0, "spring", 3)))
	got, err := st.SpendBetween(ctx, spendDay(0), spendDay(1))
	require.NoError(t, err)
	require.Equal(t, []int64{3, 5}, amounts(got))
}

func (s *suite) putSpendInvalidNamesFieldAndWritesNothing(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	bad := journey.Spend{Day: spendDay(0).Add(time.Hour), Currency: "usd", Amount: -1}
	err := st.PutSpend(ctx, spendRow(0, "spring", 1), bad)
	requireInvalid(t, err, "spend 1", "day", "channel", "currency", "amount")
	got, err := st.SpendBetween(ctx, spendDay(-1), spendDay(2))
	require.NoError(t, err)
	require.Empty(t, got, "nothing of a refused batch is stored")
}

func (s *suite) spendBetweenHalfOpenOrderedByDayThenKey(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	rows := []journey.Spend{spendRow(2, "b", 1), spendRow(1, "b", 2), spendRow(1, "a", 3), spendRow(0, "a", 4), spendRow(3, "a", 5)}
	social := spendRow(1, "", 6)
	social.Channel, social.Source, social.Medium = "Paid Social", "facebook", "paid"
	rows = append(rows, social)
	require.NoError(t, st.PutSpend(ctx, rows...))
	got, err := st.SpendBetween(ctx, spendDay(1), spendDay(3))
	require.NoError(t, err)
	require.Equal(t, []int64{3, 2, 6, 1}, amounts(got), "days in [from, to), then by channel, source, medium, campaign")
	got, err = st.SpendBetween(ctx, spendDay(10), spendDay(11))
	require.NoError(t, err)
	require.Empty(t, got)
}

func (s *suite) spendIsKeptByErasePersonAndDeleteBefore(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	require.NoError(t, st.PutSpend(ctx, spendRow(0, "spring", 1)))
	p, err := st.Resolve(ctx, visitor("v1"))
	require.NoError(t, err)
	require.NoError(t, st.ErasePerson(ctx, p))
	_, err = st.DeleteBefore(ctx, spendDay(30))
	require.NoError(t, err)
	got, err := st.SpendBetween(ctx, spendDay(0), spendDay(1))
	require.NoError(t, err)
	require.Len(t, got, 1, "spend names no person and is the business's own accounting")
}

func amounts(rows []journey.Spend) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.Amount
	}
	return out
}
