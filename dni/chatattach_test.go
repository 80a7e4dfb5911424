package dni

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/chat"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
	"github.com/attriqs/calltrack/store/memstore"
)

// linkRace is a store whose Link or Attach of one identifier waits (up to
// a second) for a second one of it: two webhooks that both found the
// identifier unowned reach the store together, as they can when they
// arrive at once. Attach is held too, so the race is forced on the path
// the service takes, not only on the one it used to.
type linkRace struct {
	store.Store
	id   journey.Identifier
	mu   sync.Mutex
	n    int
	both chan struct{}
}

func (s *linkRace) Link(ctx context.Context, a, b journey.Identifier) (string, error) {
	if a == s.id || b == s.id {
		s.meet()
	}
	return s.Store.Link(ctx, a, b)
}

func (s *linkRace) Attach(ctx context.Context, id, to journey.Identifier) (string, bool, error) {
	if id == s.id {
		s.meet()
	}
	return s.Store.Attach(ctx, id, to)
}

// meet waits for the second caller; the second lets both go. The bound
// only keeps a broken test from hanging: the outcome is checked either way.
func (s *linkRace) meet() {
	s.mu.Lock()
	s.n++
	if s.n == 2 {
		close(s.both)
	}
	s.mu.Unlock()
	select {
	case <-s.both:
	case <-time.After(time.Second):
	}
}

// Two verified webhooks of one conversation, arriving at once and each
// echoing another person's session, must not merge the two persons: the
// conversation joins one of them, and only one.
func TestConcurrentChatWebhooksOfOneConversationNeverMergeTwoPersons(t *testing.T) {
	conv, err := conversationID(chat.Crisp, "session_race-1")
	require.NoError(t, err)
	st := &linkRace{Store: memstore.New(), id: conv, both: make(chan struct{})}
	h := newHarness(t, testConfig(), WithStore(st))
	ctx := t.Context()
	a := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?utm_source=newsletter&utm_medium=email"})
	b := h.visit(t, VisitRequest{URL: "https://example-plumbing.com/?gclid=other"})
	var persons []string
	for _, as := range []Assignment{a, b} {
		sess, err := h.svc.session(ctx, as.SessionID)
		require.NoError(t, err)
		p, err := st.Resolve(ctx, journey.Identifier{Kind: journey.IDVisitor, Value: sess.VisitorID})
		require.NoError(t, err)
		persons = append(persons, p)
	}
	require.NotEqual(t, persons[0], persons[1])

	h.clock.add(time.Minute)
	err = parallelErr(2, func(i int) error {
		sid := []string{a.SessionID, b.SessionID}[i]
		return h.svc.RecordChat(ctx, []chat.Event{{Platform: chat.Crisp, Type: chat.Started,
			ConversationID: "session_race-1", SessionID: sid, At: h.clock.now()}})
	})
	require.NoError(t, err)

	owner, err := st.PersonOf(ctx, conv)
	require.NoError(t, err)
	require.Contains(t, persons, owner)
	for _, p := range persons {
		ids, err := st.Identifiers(ctx, p)
		require.NoError(t, err, "person %s was merged away", p)
		kinds := map[journey.IDKind]int{}
		for _, id := range ids {
			kinds[id.Kind]++
		}
		require.Equal(t, 1, kinds[journey.IDVisitor], "person %s holds one visitor: %v", p, ids)
	}
}

// parallelErr runs f(0..n-1) at once and returns their errors joined.
func parallelErr(n int, f func(i int) error) error {
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs <- f(i) })
	}
	wg.Wait()
	close(errs)
	var first error
	for err := range errs {
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}
