package dni_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/dni/dnitest"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/report"
)

func newEventsHarness(t *testing.T) *dnitest.Harness {
	t.Helper()
	return dnitest.New(t, dnitest.Config{DNI: dni.Config{
		Pools:       []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111"}, BusinessNumber: "+14155550000"}}},
		VisitorKeys: [][]byte{bytes.Repeat([]byte("k"), 32)},
	}})
}

// postEvents posts a body to v1/events as the tracker does (text/plain JSON)
// and returns the status and the answer's error text.
func postEvents(t *testing.T, h *dnitest.Harness, body any) (int, string) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	res, err := http.Post(h.URL+dni.DefaultPrefix+"v1/events", "text/plain;charset=UTF-8", bytes.NewReader(b))
	require.NoError(t, err)
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(out, &e)
	return res.StatusCode, e.Error
}

// recordJSON decodes body as the HTTP handler does and records it.
func recordJSON(t *testing.T, h *dnitest.Harness, body any) error {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	var req dni.EventsRequest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&req))
	return h.Service.RecordEvents(context.Background(), req)
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// A paid search visit submits a form; the page reports its outcome (the
// tracker sends the event again, same time, with it); the form is one
// touchpoint of the session's source, counted in the sources report; an
// outcome set by hand makes it a form conversion credited to that source.
func TestAFormOverHTTPBecomesAnAttributedConversion(t *testing.T) {
	h := newEventsHarness(t)
	ctx := context.Background()
	a := h.Visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/quote?utm_source=google&utm_medium=cpc&utm_campaign=spring"})
	h.Advance(t, time.Minute)
	at := h.Clock().Now()
	form := map[string]any{"type": "form", "at": at.Format(time.RFC3339Nano), "name": "quote", "page": "/quote",
		"email_sha256": sha("jane@example.com"), "phone_sha256": sha("+14155550123")}
	for _, outcome := range []string{"", "sent"} {
		if outcome != "" {
			form["outcome"] = outcome
		}
		code, msg := postEvents(t, h, map[string]any{"visitor_id": a.VisitorID, "session_id": a.SessionID, "events": []any{form}})
		require.Equal(t, http.StatusAccepted, code, msg)
	}

	from, to := dnitest.Start.Add(-time.Hour), dnitest.Start.Add(time.Hour)
	tps, _, err := h.Service.Journey(ctx, journey.Identifier{Kind: journey.IDVisitor, Value: a.VisitorID}, from, to)
	require.NoError(t, err)
	var forms []journey.Touchpoint
	for _, tp := range tps {
		if tp.Kind == journey.TouchForm {
			forms = append(forms, tp)
		}
	}
	require.Len(t, forms, 1, "the outcome updates the submission's touchpoint")
	tp := forms[0]
	assert.Equal(t, map[string]string{"event": "form", "name": "quote", "page": "/quote", "outcome": "sent",
		"email_sha256": sha("jane@example.com"), "phone_sha256": sha("+14155550123")}, tp.Attrs)
	assert.Equal(t, "google", tp.Source.Source)

	rows, err := h.Service.Sources(ctx, from, to, report.DimSourceMedium)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, 1, rows[0].Forms)
	key := rows[0].Key
	assert.Contains(t, key, "google")

	require.NoError(t, h.Service.SetOutcome(ctx, tp.ID, dni.Outcome{Status: dni.OutcomeWon, Value: 40000, Currency: "USD"}))
	_, convs, err := h.Service.Journey(ctx, journey.Identifier{Kind: journey.IDVisitor, Value: a.VisitorID}, from, to)
	require.NoError(t, err)
	require.Len(t, convs, 1)
	assert.Equal(t, journey.ConversionForm, convs[0].Type)
	cmp, err := h.Service.Attribute(ctx, from, to, attribution.Options{Key: report.DimSourceMedium.Key(), Currency: "USD"})
	require.NoError(t, err)
	for _, r := range cmp.Results {
		require.Len(t, r.Groups, 1, r.Model)
		assert.Equal(t, key, r.Groups[0].Key, r.Model)
		assert.Equal(t, int64(40000), r.Groups[0].Value, r.Model)
	}
	rows, err = h.Service.Sources(ctx, from, to, report.DimSourceMedium)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.NotEmpty(t, rows[0].Models)
	for _, m := range rows[0].Models {
		assert.Equal(t, int64(40000), m.Value, m.Model)
	}
}

// A custom event's properties are kept as prop.<key> attributes, numbers
// as JavaScript writes them.
func TestCustomEventPropsAreTouchpointAttributes(t *testing.T) {
	h := newEventsHarness(t)
	a := h.Visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/"})
	code, msg := postEvents(t, h, map[string]any{"visitor_id": a.VisitorID, "session_id": a.SessionID, "events": []any{
		map[string]any{"type": "custom", "at": h.Clock().Now().Format(time.RFC3339Nano), "name": "video:play",
			"props": map[string]any{"id": "intro", "pct": 12.5, "n": 12345678, "big": 1e21, "muted": true}},
	}})
	require.Equal(t, http.StatusAccepted, code, msg)
	tps, _, err := h.Service.Journey(context.Background(), journey.Identifier{Kind: journey.IDVisitor, Value: a.VisitorID},
		dnitest.Start.Add(-time.Hour), dnitest.Start.Add(time.Hour))
	require.NoError(t, err)
	var got map[string]string
	for _, tp := range tps {
		if tp.Kind == journey.TouchCustom {
			got = tp.Attrs
		}
	}
	assert.Equal(t, map[string]string{"event": "custom", "name": "video:play",
		"prop.id": "intro", "prop.pct": "12.5", "prop.n": "12345678", "prop.big": "1e+21", "prop.muted": "true"}, got)
}

// Every invalid field is refused with 400, naming the event and the field,
// and nothing of the batch is stored.
func TestInvalidEventFieldsAreNamed(t *testing.T) {
	h := newEventsHarness(t)
	a := h.Visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/"})
	at := h.Clock().Now().Format(time.RFC3339Nano)
	props := func(n int) map[string]any {
		p := map[string]any{}
		for i := range n {
			p[string(rune('a'+i))] = i
		}
		return p
	}
	for _, tc := range []struct {
		name  string
		event map[string]any
		field string
	}{
		{"form name too long", map[string]any{"type": "form", "name": strings.Repeat("é", 129)}, "name"},
		{"form name with a control character", map[string]any{"type": "form", "name": "a\nb"}, "name"},
		{"custom name with a space", map[string]any{"type": "custom", "name": "sign up"}, "name"},
		{"custom name too long", map[string]any{"type": "custom", "name": strings.Repeat("a", 65)}, "name"},
		{"page not a path", map[string]any{"type": "form", "name": "q", "page": "https://x.example/"}, "page"},
		{"page too long", map[string]any{"type": "form", "name": "q", "page": "/" + strings.Repeat("a", 512)}, "page"},
		{"page on a chat event", map[string]any{"type": "chat_opened", "platform": "crisp", "page": "/"}, "page"},
		{"outcome with a space", map[string]any{"type": "form", "name": "q", "outcome": "not sent"}, "outcome"},
		{"outcome on a custom event", map[string]any{"type": "custom", "name": "q", "outcome": "sent"}, "outcome"},
		{"email_sha256 upper case", map[string]any{"type": "form", "name": "q", "email_sha256": strings.ToUpper(sha("x"))}, "email_sha256"},
		{"email_sha256 keyed", map[string]any{"type": "form", "name": "q", "email_sha256": "h:" + sha("x")}, "email_sha256"},
		{"phone_sha256 short", map[string]any{"type": "form", "name": "q", "phone_sha256": sha("x")[:63]}, "phone_sha256"},
		{"email_google_sha256 upper case", map[string]any{"type": "form", "name": "q", "email_google_sha256": strings.ToUpper(sha("x"))}, "email_google_sha256"},
		{"email_google_sha256 plain text", map[string]any{"type": "form", "name": "q", "email_google_sha256": "janedoe@gmail.com"}, "email_google_sha256"},
		{"email_google_sha256 on a custom event", map[string]any{"type": "custom", "name": "q", "email_google_sha256": sha("x")}, "email_google_sha256"},
		{"phone_sha256 on a custom event", map[string]any{"type": "custom", "name": "q", "phone_sha256": sha("x")}, "phone_sha256"},
		{"props on a form", map[string]any{"type": "form", "name": "q", "props": map[string]any{"a": 1}}, "props"},
		{"11 props", map[string]any{"type": "custom", "name": "q", "props": props(11)}, "props"},
		{"prop key with a space", map[string]any{"type": "custom", "name": "q", "props": map[string]any{"a b": 1}}, "props"},
		{"prop key too long", map[string]any{"type": "custom", "name": "q", "props": map[string]any{strings.Repeat("k", 33): 1}}, "props"},
		{"prop string too long", map[string]any{"type": "custom", "name": "q", "props": map[string]any{"a": strings.Repeat("x", 101)}}, "props"},
		{"prop object", map[string]any{"type": "custom", "name": "q", "props": map[string]any{"a": map[string]any{}}}, "props"},
		{"prop null", map[string]any{"type": "custom", "name": "q", "props": map[string]any{"a": nil}}, "props"},
		{"prop list", map[string]any{"type": "custom", "name": "q", "props": map[string]any{"a": []any{1}}}, "props"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.event["at"] = at
			ok := map[string]any{"type": "custom", "name": "fine", "at": at, "props": props(10)}
			err := recordJSON(t, h, map[string]any{"visitor_id": a.VisitorID, "session_id": a.SessionID, "events": []any{ok, tc.event}})
			require.ErrorIs(t, err, dni.ErrInvalidEvent)
			assert.True(t, strings.HasPrefix(err.Error(), "events[1]: dni: invalid event: "+tc.field+": "), "error %q, want events[1] and %s", err, tc.field)
		})
	}
	// Over HTTP (a rate-limited path, so once): 400 and the same text.
	code, msg := postEvents(t, h, map[string]any{"visitor_id": a.VisitorID, "session_id": a.SessionID, "events": []any{
		map[string]any{"type": "custom", "at": at, "name": "q", "props": props(11)}}})
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Equal(t, "events[0]: dni: invalid event: props: 11 keys, at most 10", msg)
	tps, _, err := h.Service.Journey(context.Background(), journey.Identifier{Kind: journey.IDVisitor, Value: a.VisitorID},
		dnitest.Start.Add(-time.Hour), dnitest.Start.Add(time.Hour))
	require.NoError(t, err)
	for _, tp := range tps {
		assert.Equal(t, journey.TouchSession, tp.Kind, "nothing of a refused batch is stored")
	}
	// The bounds themselves pass: 128 characters of form name, 10 props,
	// 100-character strings.
	code, msg = postEvents(t, h, map[string]any{"visitor_id": a.VisitorID, "session_id": a.SessionID, "events": []any{
		map[string]any{"type": "form", "at": at, "name": strings.Repeat("é", 128), "page": "/" + strings.Repeat("a", 511)},
		map[string]any{"type": "custom", "at": at, "name": strings.Repeat("a", 64),
			"props": map[string]any{strings.Repeat("k", 32): strings.Repeat("é", 100)}},
	}})
	assert.Equal(t, http.StatusAccepted, code, msg)
}
