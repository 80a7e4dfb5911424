package googleadsapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/dni/dnitest"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/googleadsapi"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
)

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// Hashes as the tracker makes them: the email trimmed and lower-cased,
// the phone in E.164.
var (
	emailHash = sha("jane.doe@example.com")
	phoneHash = sha("+14155550199")
)

// formConversion is a qualified form's message: no call, the form's
// hashed email and phone.
func formConversion(id string, src classify.Source, ids journey.AdIDs, ud export.UserData) export.Message {
	at := time.Date(2026, 3, 2, 10, 5, 0, 0, time.UTC)
	ev := export.Event{Conversion: &journey.Conversion{ID: id, Type: journey.ConversionForm, At: at, Value: 5000, Currency: "USD"},
		Source: src, AdIDs: ids, UserData: ud}
	return export.Message{ID: export.MessageID(googleadsapi.DefaultName, ev), Sink: googleadsapi.DefaultName, Attempt: 1, CreatedAt: at, Event: ev}
}

var gclidSource = classify.Source{Channel: classify.ChannelPaidSearch, Source: "google", Medium: "cpc",
	ClickID: classify.ClickID{Param: "gclid", Value: "Cj0-form", Platform: "Google Ads"}}

type identifiers struct{ emails, phones []string }

func identifiersOf(c fakeClick) identifiers {
	var ids identifiers
	for _, u := range c.UserIdentifiers {
		if u.HashedEmail != "" {
			ids.emails = append(ids.emails, u.HashedEmail)
		}
		if u.HashedPhoneNumber != "" {
			ids.phones = append(ids.phones, u.HashedPhoneNumber)
		}
	}
	return ids
}

// The form's hashed email and phone go as userIdentifiers, each its own,
// FIRST_PARTY; the stand-in, like Google, takes hashedEmail.
func TestAFormsHashedEmailAndPhoneAreSentAsUserIdentifiers(t *testing.T) {
	f := newFakeAds(t, newClock().now)
	s := newSink(t, f, func(c *googleadsapi.Config) { c.EnhancedConversionsForLeads = true })
	m := formConversion("form:1", gclidSource, consented, export.UserData{EmailSHA256: emailHash, PhoneSHA256: phoneHash})
	require.True(t, s.Accepts(m.Event))
	require.NoError(t, s.Deliver(context.Background(), m))
	accepted, _, _, _ := f.snapshot()
	got := accepted[m.ID]
	require.Len(t, got.UserIdentifiers, 2)
	for _, u := range got.UserIdentifiers {
		assert.Equal(t, "FIRST_PARTY", u.UserIdentifierSource)
		assert.True(t, (u.HashedEmail == "") != (u.HashedPhoneNumber == ""), "one identifier per UserIdentifier")
	}
	assert.Equal(t, identifiers{[]string{emailHash}, []string{phoneHash}}, identifiersOf(got))
	assert.Equal(t, "Cj0-form", got.GCLID)
}

func TestUserIdentifiersFollowConsentSettingsAndShape(t *testing.T) {
	caller := sha(caller)
	for name, tc := range map[string]struct {
		ecl  bool
		ids  journey.AdIDs
		ud   export.UserData
		from string // the caller; "" for a form
		want identifiers
	}{
		"email, form phone and caller": {true, consented, export.UserData{EmailSHA256: emailHash, PhoneSHA256: phoneHash}, "+14155550123",
			identifiers{[]string{emailHash}, []string{phoneHash, caller}}},
		"the form's phone is the caller's": {true, consented, export.UserData{PhoneSHA256: caller}, "+14155550123",
			identifiers{nil, []string{caller}}},
		"consent mode denies user data": {true, journey.AdIDs{Consent: true, AdUserData: "denied"},
			export.UserData{EmailSHA256: emailHash}, "", identifiers{}},
		"enhanced conversions off": {false, consented, export.UserData{EmailSHA256: emailHash}, "", identifiers{}},
		"a dotted gmail address goes by Google's hash": {true, consented,
			export.UserData{EmailSHA256: sha("jane.doe@gmail.com"), EmailGoogleSHA256: sha("janedoe@gmail.com"), PhoneSHA256: phoneHash}, "",
			identifiers{[]string{sha("janedoe@gmail.com")}, []string{phoneHash}}},
		"a Google hash that is not lower-case hex leaves the plain one": {true, consented,
			export.UserData{EmailSHA256: emailHash, EmailGoogleSHA256: "janedoe@gmail.com"}, "", identifiers{[]string{emailHash}, nil}},
		"a hash that is not lower-case hex": {true, consented,
			export.UserData{EmailSHA256: "Jane.Doe@example.com", PhoneSHA256: "ABCDEF" + phoneHash[6:]}, "", identifiers{}},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeAds(t, newClock().now)
			s := newSink(t, f, func(c *googleadsapi.Config) { c.EnhancedConversionsForLeads = tc.ecl })
			m := formConversion("form:1", gclidSource, tc.ids, tc.ud)
			if tc.from != "" {
				m.Call = conversion("c", "gclid", "g", tc.ids).Call
				m.Call.From = tc.from
			}
			require.NoError(t, s.Deliver(context.Background(), m))
			_, clicks, _, _ := f.snapshot()
			require.Len(t, clicks, 1)
			assert.Equal(t, tc.want, identifiersOf(clicks[0]))
		})
	}
}

// Enhanced conversions for leads upload a consented lead without a Google
// click by its identifiers alone; without them, or with the setting off,
// such a conversion is not queued.
func TestALeadWithoutAGoogleClickGoesByItsIdentifiers(t *testing.T) {
	organic := classify.Source{Channel: classify.ChannelOrganicSearch, Source: "google", Medium: "organic"}
	f := newFakeAds(t, newClock().now)
	on := newSink(t, f, func(c *googleadsapi.Config) { c.EnhancedConversionsForLeads = true })
	off := newSink(t, f)
	lead := formConversion("form:2", organic, consented, export.UserData{EmailSHA256: emailHash})
	bare := formConversion("form:3", organic, consented, export.UserData{})
	denied := formConversion("form:4", organic, journey.AdIDs{Consent: true, AdUserData: "denied"}, export.UserData{EmailSHA256: emailHash})
	assert.True(t, on.Accepts(lead.Event))
	assert.False(t, off.Accepts(lead.Event), "enhanced conversions for leads off")
	assert.False(t, on.Accepts(bare.Event), "nothing Google could match")
	assert.False(t, on.Accepts(denied.Event), "Consent Mode denies user data")
	adj := adjustment("form:2", export.AdjustRestate, 9000, time.Now(), 1).Event
	adj.Source = organic
	assert.True(t, on.Accepts(adj), "an adjustment of such a lead, matched by its order id")
	assert.False(t, off.Accepts(adj))

	require.NoError(t, on.Deliver(context.Background(), lead))
	accepted, _, _, _ := f.snapshot()
	got := accepted[lead.ID]
	assert.Empty(t, got.GCLID+got.GBRAID+got.WBRAID)
	assert.Equal(t, identifiers{[]string{emailHash}, nil}, identifiersOf(got))
	assert.Equal(t, lead.ID, got.OrderID)

	err := on.Deliver(context.Background(), bare)
	require.Error(t, err)
	assert.True(t, export.IsPermanent(err), "nothing to match on: retrying cannot help")
}

// recorder is a sink that takes every event.
type recorder struct {
	mu  sync.Mutex
	got []export.Message
}

func (r *recorder) Name() string { return "recorder" }
func (r *recorder) Deliver(_ context.Context, m export.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, m)
	return nil
}

// Through the Service: a form reported with its hashes on a consented
// paid-search visit reaches Google with hashedEmail and hashedPhoneNumber;
// the same form on a visit without ads consent sends Google nothing, and
// carries no hashes to any sink.
func TestAFormsHashesReachGoogleThroughTheService(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	ads := newFakeAds(t, clk.now)
	sink := newSink(t, ads, func(c *googleadsapi.Config) { c.EnhancedConversionsForLeads = true })
	rec := &recorder{}
	s := dnitest.New(t, dnitest.Config{DNI: dni.Config{
		Pools: []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112"},
			BusinessNumber: "+14155550000"}}},
		FormRules: []journey.FormRule{{Name: "quote", Form: "quote", Value: 5000, Currency: "USD"}},
	}, Now: clk.now, Export: export.Config{Rand: func() float64 { return 0 }}, Sinks: []export.Sink{sink, rec}})

	consentedVisit := s.Visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=Cj0-form-e2e",
		Referrer: "https://www.google.com/", AdIDs: journey.AdIDs{Consent: true, AdUserData: "granted"}})
	plainVisit := s.Visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=Cj0-form-none",
		Referrer: "https://www.google.com/"})
	clk.add(time.Minute)
	for i, sess := range []string{consentedVisit.SessionID, plainVisit.SessionID} {
		require.NoError(t, s.Service.RecordForm(ctx, sess, dni.FormSubmission{ID: fmt.Sprint("lead-", i), Name: "quote",
			EmailSHA256: emailHash, PhoneSHA256: phoneHash}))
	}
	s.Close(t)
	s.DeliverAll(t)

	_, clicks, _, _ := ads.snapshot()
	require.Len(t, clicks, 1, "only the consented visit's form")
	assert.Equal(t, "Cj0-form-e2e", clicks[0].GCLID)
	assert.Equal(t, identifiers{[]string{emailHash}, []string{phoneHash}}, identifiersOf(clicks[0]))

	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.got, 2)
	for _, m := range rec.got {
		if m.AdIDs.Consent {
			assert.Equal(t, export.UserData{EmailSHA256: emailHash, PhoneSHA256: phoneHash}, m.UserData)
		} else {
			assert.True(t, m.UserData.IsZero(), "no hashes without ads consent")
		}
	}
}
