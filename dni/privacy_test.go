package dni

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/export/webhook"
	"github.com/attriqs/calltrack/internal/logbuf"
	"github.com/attriqs/calltrack/internal/testenv"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
	"github.com/attriqs/calltrack/store/postgres"
	"github.com/attriqs/calltrack/store/sqlite"
	"github.com/attriqs/calltrack/store/storetest"
)

var testIdentityKey = []byte("privacy test identity key")

// storeKind is a store the privacy tests run on, and how to read back
// everything it holds.
type storeKind struct {
	name string
	open func(t *testing.T) (st store.Store, dump func(t *testing.T) []string)
}

var privacyStores = []storeKind{
	{"memstore", func(t *testing.T) (store.Store, func(*testing.T) []string) {
		st := memstore.New()
		return st, func(*testing.T) []string { return storetest.DumpMemory(st) }
	}},
	{"sqlite", func(t *testing.T) (store.Store, func(*testing.T) []string) {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "calltrack.db"), sqlite.Config{})
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		return st, func(t *testing.T) []string { return storetest.DumpSQL(t, st.DB()) }
	}},
	{"postgres", func(t *testing.T) (store.Store, func(*testing.T) []string) {
		st := postgresStore(t)
		return st, func(t *testing.T) []string { return storetest.DumpSQL(t, st.DB()) }
	}},
}

// postgresStore is a migrated store in a schema of its own, dropped when
// the test ends.
func postgresStore(t *testing.T) *postgres.Store {
	t.Helper()
	dsn := testenv.PostgresDSN(t)
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "calltrack_privacy_" + hex.EncodeToString(b[:])
	admin, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	cfg, err := pgxpool.ParseConfig(dsn)
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	st := postgres.New(pool, postgres.Config{})
	t.Cleanup(func() {
		st.Close()
		pool.Close()
		_, err := admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
		require.NoError(t, err)
	})
	require.NoError(t, st.Migrate(ctx))
	return st
}

// spellings are the ways a stored copy of number could be written: E.164,
// its digits, the national digits and formats, form-encoded, and the
// base64 of each (as JSON writes bytes) at every alignment.
func spellings(number string) []string {
	national := number[2:] // the test numbers are +1 NANP numbers
	plain := []string{number, number[1:], national,
		"(" + national[:3] + ") " + national[3:6] + "-" + national[6:],
		national[:3] + "-" + national[3:6] + "-" + national[6:],
		national[:3] + "." + national[3:6] + "." + national[6:],
		"%2B" + number[1:]}
	out := plain
	for _, s := range []string{number, national} {
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			for pad := range 3 {
				e := enc.EncodeToString(append(make([]byte, pad), s...))
				// Only the characters that no neighbouring byte changes.
				out = append(out, e[(8*pad+5)/6:8*(pad+len(s))/6])
			}
		}
	}
	return out
}

// findIn returns where, among the labelled texts, any spelling occurs.
func findIn(texts map[string][]string, spells []string) []string {
	var found []string
	for label, vs := range texts {
		for _, v := range vs {
			for _, s := range spells {
				if strings.Contains(v, s) {
					v := v
					if len(v) > 160 {
						v = v[:160] + "…"
					}
					found = append(found, fmt.Sprintf("%s: %q holds %q", label, v, s))
				}
			}
		}
	}
	return found
}

// filesUnder returns the content of every file under dir, by name.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out = append(out, filepath.Base(path)+"="+string(b))
		return err
	}))
	return out
}

// outageStore fails every call write, transiently, while down is set: the
// events wait in the spool.
type outageStore struct {
	store.Store
	down atomic.Bool
}

func (s *outageStore) RecordCall(ctx context.Context, ev provider.CallEvent) (provider.CallEvent, error) {
	if s.down.Load() {
		return provider.CallEvent{}, errors.New("connection refused")
	}
	return s.Store.RecordCall(ctx, ev)
}

// A call placed with Config.IdentityKey set is answered with the caller's
// number (CallerIDPassthrough), and stitched, linked, qualified and
// exported as without it, while nothing calltrack keeps, in any table of
// any store, in the spool, the dead letters, the outbox or the log, holds
// the caller's number in any spelling.
func TestIdentityKeyKeepsNoCallerNumberAnywhere(t *testing.T) {
	for _, kind := range privacyStores {
		t.Run(kind.name, func(t *testing.T) {
			inner, dump := kind.open(t)
			st := &refusingStore{Store: inner, refused: map[string]bool{"CA-dead": true}}
			receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			defer receiver.Close()
			hook, err := webhook.New(webhook.Config{URL: receiver.URL, Secret: []byte("crm")})
			require.NoError(t, err)
			x, err := export.New(inner.(store.Outbox), export.Config{}, hook)
			require.NoError(t, err)
			var logs logbuf.Buffer
			spool := t.TempDir()
			cfg := testConfig()
			cfg.IdentityKey = testIdentityKey
			cfg.Forward.CallerIDPassthrough = true
			h := newHarness(t, cfg, WithStore(st), WithExports(x), WithSpoolDir(spool),
				WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			ctx := context.Background()

			a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
			h.clock.add(5 * time.Minute)
			ans := h.call(t, "CA-session", a.Swaps[0].Number)
			assert.Equal(t, caller, ans.CallerID, "the business sees the caller's number: routing works from memory")
			h.clock.add(time.Hour)
			h.call(t, "CA-nosession", printNumber)
			h.call(t, "CA-dead", printNumber)
			waitFor(t, "the dead letter", func() bool { return len(h.svc.DeadLetters()) > 0 })
			require.NoError(t, h.svc.Close())

			// It all still works on the keyed number.
			phone, err := journey.PhoneID(caller, testIdentityKey)
			require.NoError(t, err)
			tps, convs, err := h.svc.Journey(ctx, phone, h.clock.now().Add(-24*time.Hour), h.clock.now().Add(time.Hour))
			require.NoError(t, err)
			assert.Len(t, tps, 3, "the session and both calls, joined by the keyed number")
			assert.Len(t, convs, 2)
			n, _, err := inner.CallsBefore(ctx, phone.Value, h.clock.now().Add(time.Minute))
			require.NoError(t, err)
			assert.Equal(t, 2, n, "the caller history counts the keyed calls")
			attr, err := inner.Attribution(ctx, "fake", "CA-session")
			require.NoError(t, err)
			assert.Equal(t, a.SessionID, attr.SessionID)
			msgs, err := x.ByState(ctx, store.OutboxPending, 0)
			require.NoError(t, err)
			delivered, err := x.ByState(ctx, store.OutboxDelivered, 0)
			require.NoError(t, err)
			assert.Len(t, append(msgs, delivered...), 2, "both qualified calls are in the outbox")
			stored, err := inner.Call(ctx, "fake", "CA-session")
			require.NoError(t, err)
			assert.Equal(t, phone.Value, stored.From)
			body, err := journey.OpenRaw(stored.Raw, testIdentityKey)
			require.NoError(t, err, "the operator can open the sealed body with the key")
			assert.Contains(t, string(body), caller)

			found := findIn(map[string][]string{
				"store":        dump(t),
				"spool dir":    filesUnder(t, spool),
				"dead letters": deadLetterTexts(h.svc.DeadLetters()),
				"log":          {logs.String()},
			}, spellings(caller))
			assert.Empty(t, found, "the caller's number is kept in the clear")
		})
	}
}

func deadLetterTexts(ls []provider.DeadLetter) []string {
	var out []string
	for _, l := range ls {
		out = append(out, fmt.Sprintf("%+v %s", l.Event, l.Event.Raw))
	}
	return out
}

// Service.ErasePerson erases a caller from the store, with their calls
// with and without a session, and from the spool: their call waiting
// there is never recorded, and the next caller's is.
func TestErasePersonErasesTheWaitingCallsToo(t *testing.T) {
	for _, keyed := range []bool{true, false} {
		for _, kind := range privacyStores {
			t.Run(fmt.Sprintf("%s/keyed=%v", kind.name, keyed), func(t *testing.T) {
				inner, dump := kind.open(t)
				st := &outageStore{Store: &refusingStore{Store: inner, refused: map[string]bool{"CA-dead": true}}}
				spool := t.TempDir()
				cfg := testConfig()
				if keyed {
					cfg.IdentityKey = testIdentityKey
				}
				h := newHarness(t, cfg, WithStore(st), WithSpoolDir(spool), WithLogger(quietLogger()))
				ctx := context.Background()

				a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=x"})
				h.clock.add(5 * time.Minute)
				h.call(t, "CA-session", a.Swaps[0].Number)
				h.clock.add(time.Hour)
				h.call(t, "CA-nosession", printNumber)
				h.call(t, "CA-dead", printNumber)
				waitFor(t, "the calls recorded", func() bool {
					_, err := inner.Call(ctx, "fake", "CA-nosession")
					return err == nil && len(h.svc.DeadLetters()) > 0
				})
				phone, err := journey.PhoneID(caller, cfg.IdentityKey)
				require.NoError(t, err)
				person, err := inner.PersonOf(ctx, phone)
				require.NoError(t, err)

				// The store goes down: the next calls wait in the spool.
				st.down.Store(true)
				h.clock.add(time.Hour)
				h.call(t, "CA-waiting", printNumber)
				const stranger = "+13105550199"
				_, err = h.caller.PlaceCall(ctx, h.srv.URL+DefaultPrefix+"webhooks/fake",
					fake.Call{ID: "CA-stranger", From: stranger, To: printNumber, Answered: true, Duration: 2 * time.Minute})
				require.NoError(t, err)
				waitFor(t, "the outage", func() bool { return len(h.svc.ingest.Health()) > 0 })
				// Someone else's call, forwarded from the person's number,
				// waits too: it is recorded, but not what names them.
				const forwarded = "+13105550142"
				h.svc.ingest.Submit(provider.CallEvent{Provider: "fake", CallID: "CA-forwarded", Kind: provider.KindStatus,
					From: forwarded, To: printNumber, Direction: provider.DirectionInbound, Status: provider.StatusCompleted,
					OccurredAt: h.clock.now(), ForwardedFrom: caller,
					Raw: []byte("From=" + url.QueryEscape(forwarded) + "&ForwardedFrom=" + url.QueryEscape(caller))})

				require.NoError(t, h.svc.ErasePerson(ctx, person))
				require.NoError(t, h.svc.ErasePerson(ctx, person), "erasing again is a no-op")

				st.down.Store(false)
				h.svc.ingest.Kick()
				waitFor(t, "the others' calls recorded", func() bool {
					_, err := inner.Call(ctx, "fake", "CA-stranger")
					_, ferr := inner.Call(ctx, "fake", "CA-forwarded")
					return err == nil && ferr == nil
				})
				require.NoError(t, h.svc.Close())
				for _, id := range []string{"CA-session", "CA-nosession", "CA-dead", "CA-waiting"} {
					_, err := inner.Call(ctx, "fake", id)
					assert.ErrorIs(t, err, store.ErrNotFound, id)
				}
				assert.Empty(t, h.svc.DeadLetters())

				spells := append(spellings(caller), a.VisitorID, a.SessionID, "CA-session", "CA-nosession", "CA-dead", "CA-waiting")
				if keyed {
					spells = append(spells, strings.TrimPrefix(phone.Value, "h:"))
				}
				found := findIn(map[string][]string{"store": dump(t), "spool dir": filesUnder(t, spool)}, spells)
				assert.Empty(t, found, "erased, yet still kept")
				_, err = inner.Call(ctx, "fake", "CA-stranger")
				assert.NoError(t, err, "the other caller's call is kept")
				fwd, err := inner.Call(ctx, "fake", "CA-forwarded")
				if assert.NoError(t, err, "the call forwarded from the person's number is someone else's: it is kept") {
					wantFrom, err := journey.PhoneID(forwarded, cfg.IdentityKey)
					require.NoError(t, err)
					assert.Equal(t, wantFrom.Value, fwd.From)
					assert.Empty(t, fwd.ForwardedFrom, "recorded forwarded from the erased person")
					assert.Empty(t, fwd.Raw, "recorded with the raw body naming the erased person")
				}
			})
		}
	}
}

// The spellings cover what JSON does to a body: a number inside base64.
func TestSpellingsFindANumberInsideBase64(t *testing.T) {
	for pad := range 3 {
		body := append(bytes.Repeat([]byte("x"), pad+7), "From=+12125550123&To=x"...)
		enc := base64.StdEncoding.EncodeToString(body)
		assert.NotEmpty(t, findIn(map[string][]string{"b": {enc}}, spellings(caller)), "offset %d", pad)
	}
	assert.Empty(t, findIn(map[string][]string{"b": {base64.StdEncoding.EncodeToString([]byte("From=+13105550199"))}}, spellings(caller)))
}
