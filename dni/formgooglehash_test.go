package dni

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
)

func hexSHA256(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// A dotted gmail address's two hashes, the plain one and Google's (the
// dots before the @ removed), are both kept on the form's touchpoint, from
// the tracker and from the host alike, and both reach the sinks in
// export.UserData with the session's ads consent, each sink choosing its
// platform's.
func TestAFormsGoogleEmailHashIsKeptAndExported(t *testing.T) {
	plain, google, phone := hexSHA256("jane.doe@gmail.com"), hexSHA256("janedoe@gmail.com"), hexSHA256("+14155550123")
	cfg := testConfig()
	cfg.FormRules = []journey.FormRule{{Name: "lead", Form: "*", Value: 1000, Currency: "USD"}}
	h, st, x, crm := newExportHarness(t, cfg)
	ctx := context.Background()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=abc",
		AdIDs: journey.AdIDs{Consent: true, GAClientID: "1234567890.1700000000", AdUserData: "granted"}})
	at := h.clock.now().Add(time.Second)
	res, body := h.post(t, "v1/events", EventsRequest{VisitorID: a.VisitorID, SessionID: a.SessionID, Events: []Event{{
		Type: EventForm, Name: "quote", Page: "/quote", At: at, EmailSHA256: plain, EmailGoogleSHA256: google, PhoneSHA256: phone}}})
	require.Equal(t, http.StatusAccepted, res.StatusCode, string(body))
	require.NoError(t, h.svc.RecordForm(ctx, a.SessionID, FormSubmission{ID: "lead-1", Name: "lead", At: at.Add(time.Second),
		EmailSHA256: plain, EmailGoogleSHA256: google}))

	browser := "form:" + a.SessionID + "/quote/" + itoa(at.UnixMilli())
	host := "form:" + a.SessionID + "/lead/id:lead-1"
	for _, id := range []string{browser, host} {
		tp, err := st.Touchpoint(ctx, id)
		require.NoError(t, err, id)
		assert.Equal(t, plain, tp.Attrs["email_sha256"], id)
		assert.Equal(t, google, tp.Attrs["email_google_sha256"], id)
	}

	deliverAll(t, x)
	for id, want := range map[string]export.UserData{
		browser: {EmailSHA256: plain, EmailGoogleSHA256: google, PhoneSHA256: phone},
		host:    {EmailSHA256: plain, EmailGoogleSHA256: google},
	} {
		m, ok := crm.message("capture/" + id)
		require.True(t, ok, "delivered: %v", crm.delivered())
		assert.Equal(t, want, m.UserData, id)
	}
}

// The host's Google hash is checked as the tracker's is, naming the field.
func TestRecordFormRefusesABadGoogleEmailHash(t *testing.T) {
	h := newHarness(t, testConfig())
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/"})
	for name, v := range map[string]string{"upper case": "ABCDEF" + hexSHA256("x")[6:], "short": hexSHA256("x")[:63], "keyed": "h:" + hexSHA256("x")} {
		err := h.svc.RecordForm(context.Background(), a.SessionID, FormSubmission{Name: "x", EmailGoogleSHA256: v})
		assert.ErrorIs(t, err, ErrInvalidEvent, name)
		assert.ErrorContains(t, err, "email_google_sha256: want 64 lower-case hex digits", name)
	}
}
