package meta_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/dni/dnitest"
	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/meta"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/fake"
)

// newService is a dni.Service exporting to the Meta sink.
func newService(t *testing.T, clk *clock, sink *meta.Sink) *dnitest.Harness {
	t.Helper()
	return dnitest.New(t, dnitest.Config{DNI: dni.Config{
		Pools: []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "main", Numbers: []string{"+14155550111", "+14155550112"}, BusinessNumber: "+14155550000"}}},
		// A two-minute answered call qualifies at $250.
		Qualify:     []journey.QualifyRule{{Name: "booked job", Value: 25000, Currency: "USD"}},
		VisitorKeys: [][]byte{bytes.Repeat([]byte("k"), 32)},
	}, Now: clk.now, Sinks: []export.Sink{sink}})
}

// A paid social visit with an fbclid and ads consent calls and qualifies:
// one Lead reaches Meta with the fbc built from the fbclid, the fbp and
// the hashed caller; the job won later is one Purchase (with
// RestateEventName; nothing without it); a visit without consent sends
// nothing.
func TestAQualifiedCallReachesMetaOnceThroughTheService(t *testing.T) {
	for _, tc := range []struct {
		name     string
		consent  bool
		restate  string
		events   []string // event names Meta keeps, in order
		adjusted bool
	}{
		{"consent, restatements sent", true, "Purchase", []string{"Lead", "Purchase"}, true},
		{"consent, restatements not sent (the default)", true, "", []string{"Lead"}, false},
		{"no consent", false, "Purchase", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{t: t0}
			c := newCAPI(t, clk.now)
			sink := newSink(t, c, func(cfg *meta.Config) { cfg.Now, cfg.RestateEventName = clk.now, tc.restate })
			s := newService(t, clk, sink)
			ctx := context.Background()

			a := s.Visit(t, dni.VisitRequest{URL: "https://example-plumbing.com/?utm_source=facebook&utm_medium=paid_social&fbclid=IwAR0abc",
				AdIDs: journey.AdIDs{Consent: tc.consent, FBP: "fb.1.1772445500000.987654321"}})
			require.NotEmpty(t, a.Swaps)
			clk.add(time.Minute)
			s.Call(t, fake.Call{ID: "CA1", From: "+12125550123", To: a.Swaps[0].Number, Answered: true, Duration: 2 * time.Minute})
			s.Close(t)
			s.DeliverAll(t)

			clk.add(24 * time.Hour)
			require.NoError(t, s.Service.SetOutcome(ctx, journey.CallTouchpointID(fake.Name, "CA1"),
				dni.Outcome{Status: dni.OutcomeWon, Value: 90000, Currency: "USD"}))
			s.DeliverAll(t)

			kept := c.keptEvents()
			var names []string
			for _, ev := range kept {
				names = append(names, ev["event_name"].(string))
			}
			assert.Equal(t, tc.events, names)
			assert.Equal(t, len(tc.events), c.received(), "nothing sent twice")
			if len(kept) == 0 {
				assert.Zero(t, c.requestCount(), "nothing sent without consent")
				return
			}
			lead := kept[0]
			assert.Equal(t, "meta/call:fake/CA1", lead["event_id"])
			assert.Equal(t, "phone_call", lead["action_source"])
			assert.Equal(t, map[string]any{"value": json.Number("250.00"), "currency": "usd"}, lead["custom_data"])
			ud := lead["user_data"].(map[string]any)
			assert.Regexp(t, `^fb\.1\.[0-9]+\.IwAR0abc$`, ud["fbc"], "fbc built from the fbclid")
			assert.Equal(t, "fb.1.1772445500000.987654321", ud["fbp"])
			assert.Equal(t, []any{sha("12125550123")}, ud["ph"])
			if tc.adjusted {
				purchase := kept[1]
				assert.Equal(t, map[string]any{"value": json.Number("900.00"), "currency": "usd"}, purchase["custom_data"])
				assert.Regexp(t, `^meta/adjust:.+/v1$`, purchase["event_id"])
				assert.Equal(t, json.Number("1772532060"), purchase["event_time"], "the time the job was won")
			}
			rep, err := s.Exporter.Report(ctx)
			require.NoError(t, err)
			assert.Equal(t, len(tc.events), rep[0].Accepted)
			assert.Zero(t, rep[0].Rejected+rep[0].Pending)
		})
	}
}
