package dni

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/internal/logbuf"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

// erasingStore erases the caller of one call between the derivation of
// its record and the record's write, once the call is complete (its last
// event: the ingest delivers in order): the race an erasure request can
// win.
type erasingStore struct {
	store.Store
	callID string
	erased atomic.Bool
	puts   atomic.Int32 // PutCallRecord calls for callID from the erasure on
}

func (s *erasingStore) PutCallRecord(ctx context.Context, rec journey.CallRecord, msgs ...store.OutboxMessage) error {
	a := rec.Attribution
	if a.CallID != s.callID {
		return s.Store.PutCallRecord(ctx, rec, msgs...)
	}
	if !s.erased.Load() {
		c, err := s.Store.Call(ctx, a.Provider, a.CallID)
		if err != nil {
			return err
		}
		if c.Status == provider.StatusCompleted {
			p, err := s.Store.PersonOf(ctx, rec.Caller.Phone)
			if err != nil {
				return err
			}
			if err := s.Store.ErasePerson(ctx, p); err != nil {
				return err
			}
			s.erased.Store(true)
		}
	}
	if s.erased.Load() {
		s.puts.Add(1)
	}
	return s.Store.PutCallRecord(ctx, rec, msgs...)
}

// A caller erased while their call is being recorded stays erased: the
// record derived before the erasure is not written, the event is neither
// retried (which would record the call again) nor dead-lettered, and the
// log says which call, without the number.
func TestACallErasedWhileBeingRecordedStaysErased(t *testing.T) {
	for _, kind := range privacyStores {
		t.Run(kind.name, func(t *testing.T) {
			inner, dump := kind.open(t)
			st := &erasingStore{Store: inner, callID: "CA-raced"}
			var logs logbuf.Buffer
			h := newHarness(t, testConfig(), WithStore(st),
				WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))))
			ctx := context.Background()

			a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
			h.clock.add(5 * time.Minute)
			// A first call links the caller to the visitor.
			h.call(t, "CA-first", a.Swaps[0].Number)
			// Everything of the visit is stored before the erasure: a
			// session written after it would be a different failure.
			waitFor(t, "the first call recorded and the visit written", func() bool {
				attr, err := inner.Attribution(ctx, "fake", "CA-first")
				return err == nil && attr.SessionID == a.SessionID && h.svc.WriteBehindStats().Pending == 0
			})
			phone, err := journey.PhoneID(caller, nil)
			require.NoError(t, err)
			_, err = inner.PersonOf(ctx, phone)
			require.NoError(t, err, "the first call linked the caller")

			h.clock.add(time.Minute)
			h.call(t, "CA-raced", a.Swaps[0].Number)
			const said = "call erased while being recorded"
			waitFor(t, "the erasure and every event delivered", func() bool {
				in := h.svc.ingest.Stats()
				return st.erased.Load() && in.Pending == 0 && in.InMemory == 0
			})
			require.NoError(t, h.svc.Close())

			assert.Zero(t, h.svc.ingest.Stats().RecorderErrors, "the erased call failed its event")
			assert.Equal(t, int32(1), st.puts.Load(), "the event was retried")
			assert.Empty(t, h.svc.DeadLetters())
			for _, id := range []journey.Identifier{phone, {Kind: journey.IDVisitor, Value: a.VisitorID}} {
				_, err := inner.PersonOf(ctx, id)
				assert.ErrorIs(t, err, store.ErrNotFound, "%s brought back", id)
			}
			for _, id := range []string{"CA-first", "CA-raced"} {
				_, err := inner.Call(ctx, "fake", id)
				assert.ErrorIs(t, err, store.ErrNotFound, id)
				_, err = inner.Attribution(ctx, "fake", id)
				assert.ErrorIs(t, err, store.ErrNotFound, id)
				_, err = inner.Touchpoint(ctx, journey.CallTouchpointID("fake", id))
				assert.ErrorIs(t, err, store.ErrNotFound, id)
			}
			found := findIn(map[string][]string{"store": dump(t)},
				append(spellings(caller), a.VisitorID, a.SessionID, "CA-first", "CA-raced"))
			assert.Empty(t, found, "erased, yet stored again")

			var line string
			for l := range strings.Lines(logs.String()) {
				if strings.Contains(l, said) {
					line = l
				}
			}
			assert.Contains(t, line, "level=INFO")
			assert.Contains(t, line, "provider=fake")
			assert.Contains(t, line, "call_id=CA-raced")
			assert.Empty(t, findIn(map[string][]string{"log": {line}}, spellings(caller)), "the log names the caller")
		})
	}
}
