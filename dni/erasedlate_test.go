package dni

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/internal/logbuf"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
)

// A caller erased while their call is still going on stays erased when
// the carrier's later callbacks of the call arrive (its recording, its
// completion): the store refuses them, so the call, the caller's link,
// the attribution, the touchpoint and the conversion are not written
// again; the events are neither retried nor dead-lettered, and the log
// says which call, without the number.
func TestTheLateCallbacksOfAnErasedCallBringNothingBack(t *testing.T) {
	for _, kind := range privacyStores {
		t.Run(kind.name, func(t *testing.T) {
			st, dump := kind.open(t)
			var logs logbuf.Buffer
			h := newHarness(t, testConfig(), WithStore(st),
				WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))))
			ctx := context.Background()
			const callID = "CA-late"

			a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
			tracking := a.Swaps[0].Number
			h.clock.add(5 * time.Minute)
			// A first call, complete, links the caller to the visitor.
			h.call(t, "CA-first", tracking)

			// The second is answered and talks on: recorded, attributed
			// and linked, not converted yet (a call qualifies once over).
			url := h.srv.URL + DefaultPrefix + "webhooks/fake"
			post := func(to string, ev fake.Event) []byte {
				t.Helper()
				ev.CallID, ev.From, ev.To, ev.OccurredAt = callID, caller, tracking, h.clock.now()
				body, err := h.caller.Post(ctx, to, ev)
				require.NoError(t, err)
				return body
			}
			h.clock.add(time.Minute)
			var ans fake.Answer
			require.NoError(t, json.Unmarshal(post(url, fake.Event{Type: fake.EventInbound}), &ans))
			callback := ans.CallbackURL
			if callback == "" {
				callback = url
			}
			post(url, fake.Event{Type: fake.EventStatus, Status: "ringing"})
			post(url, fake.Event{Type: fake.EventStatus, Status: "in-progress"})
			post(callback, fake.Event{Type: fake.EventForward, Outcome: "answered", TalkS: 120})
			waitFor(t, "the answered call recorded and attributed, and the visit written", func() bool {
				in := h.svc.ingest.Stats()
				c, err := st.Call(ctx, "fake", callID)
				if err != nil || c.Outcome != "answered" || in.Pending != 0 || in.InMemory != 0 {
					return false
				}
				attr, err := st.Attribution(ctx, "fake", callID)
				_, terr := st.Touchpoint(ctx, journey.CallTouchpointID("fake", callID))
				return err == nil && attr.SessionID == a.SessionID && terr == nil && h.svc.WriteBehindStats().Pending == 0
			})
			phone, err := journey.PhoneID(caller, nil)
			require.NoError(t, err)
			p, err := st.PersonOf(ctx, phone)
			require.NoError(t, err)
			require.NoError(t, h.svc.ErasePerson(ctx, p))
			before := h.svc.ingest.Stats()

			// The carrier reports the recording and the end of the call.
			h.clock.add(2 * time.Minute)
			post(callback, fake.Event{Type: fake.EventRecording, RecordingID: "RE" + callID,
				RecordingURL: "https://fake.invalid/recordings/RE" + callID, DurationS: 120})
			post(url, fake.Event{Type: fake.EventStatus, Status: "completed", DurationS: 120})
			const said = "event of an erased call dropped"
			dropped := func() []string {
				var lines []string
				for l := range strings.Lines(logs.String()) {
					if strings.Contains(l, said) {
						lines = append(lines, l)
					}
				}
				return lines
			}
			waitFor(t, "both late events delivered", func() bool {
				in := h.svc.ingest.Stats()
				return in.Recorded+in.DeadLettered >= before.Recorded+before.DeadLettered+2 &&
					in.Pending == 0 && in.InMemory == 0
			})
			require.NoError(t, h.svc.Close())

			assert.Zero(t, h.svc.ingest.Stats().RecorderErrors, "a late event failed")
			assert.Empty(t, h.svc.DeadLetters())
			for _, id := range []journey.Identifier{phone, {Kind: journey.IDVisitor, Value: a.VisitorID}} {
				_, err := st.PersonOf(ctx, id)
				assert.ErrorIs(t, err, store.ErrNotFound, "%s brought back", id)
			}
			for _, id := range []string{"CA-first", callID} {
				_, err := st.Call(ctx, "fake", id)
				assert.ErrorIs(t, err, store.ErrNotFound, id)
				_, err = st.Attribution(ctx, "fake", id)
				assert.ErrorIs(t, err, store.ErrNotFound, id)
				_, err = st.Touchpoint(ctx, journey.CallTouchpointID("fake", id))
				assert.ErrorIs(t, err, store.ErrNotFound, id)
			}
			convs, err := st.ConversionsBetween(ctx, h.clock.now().Add(-24*time.Hour), h.clock.now().Add(time.Hour))
			require.NoError(t, err)
			assert.Empty(t, convs, "a conversion brought back")
			found := findIn(map[string][]string{"store": dump(t)},
				append(spellings(caller), a.VisitorID, a.SessionID, "CA-first", callID))
			assert.Empty(t, found, "erased, yet stored again")

			require.Len(t, dropped(), 2, "each late event is logged as dropped")
			for _, line := range dropped() {
				assert.Contains(t, line, "level=INFO")
				assert.Contains(t, line, "provider=fake")
				assert.Contains(t, line, "call_id="+callID)
			}
			assert.Empty(t, findIn(map[string][]string{"log": dropped()}, spellings(caller)), "the log names the caller")
		})
	}
}
