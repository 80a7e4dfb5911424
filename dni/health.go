package dni

import (
	"context"
	"net/http"
	"strings"

	"github.com/attriqs/calltrack/provider"
)

// Health is what Service.Health reports.
type Health struct {
	// Live is false once the service is closed.
	Live bool `json:"live"`
	// Reasons says why the service is degraded, one line per problem;
	// empty when it is healthy. A degraded service still forwards every
	// caller: the reasons say what it cannot keep or record meanwhile.
	Reasons []string `json:"reasons,omitempty"`
}

// Degraded reports whether anything is wrong.
func (h Health) Degraded() bool { return len(h.Reasons) > 0 }

// Ready reports whether the service is live and not degraded.
func (h Health) Ready() bool { return h.Live && !h.Degraded() }

// Health reports whether the service is live and, if it is degraded, why:
// Run not running (or ended), a spool directory it cannot write (call
// events then live in a bounded memory queue), a store that fails (events
// wait in the spool), a dead-letter file it cannot write, store writes
// behind visits failing.
func (s *Service) Health(context.Context) Health {
	h := Health{Live: !s.closed.Load()}
	if h.Live && !s.running.Load() {
		h.Reasons = append(h.Reasons, "Run is not running: webhooks are answered and spooled, but calls, hold history and delayed visit writes are not recorded")
	}
	if s.ingest != nil {
		h.Reasons = append(h.Reasons, s.ingest.Health()...)
	}
	return h
}

// HealthHandler serves the service's health as JSON, for probes and
// monitoring; mount it where the host's operators can reach it, such as
// "/healthz/" (its reasons name internal errors). A path ending in /live
// answers 200 while the service is live; any other path answers 200 when
// it is ready and 503 with the reasons when it is degraded or closed.
func (s *Service) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, apiError{"use GET"})
			return
		}
		h := s.Health(r.Context())
		ok := h.Ready()
		if strings.HasSuffix(r.URL.Path, "/live") {
			ok = h.Live
		}
		code := http.StatusOK
		if !ok {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, struct {
			Health
			Ready bool `json:"ready"`
		}{h, h.Ready()})
	})
}

// DeadLetters lists the call events the store refused for good (an
// invalid record, a constraint, a bug that panicked), oldest first, each
// with its raw webhook body and the reason.
func (s *Service) DeadLetters() []provider.DeadLetter {
	if s.ingest == nil {
		return nil
	}
	return s.ingest.DeadLetters()
}

// ReplayDeadLetters records the dead letters with the given ids again (all
// when none is given), once their cause is fixed; the recorded ones leave
// the list.
func (s *Service) ReplayDeadLetters(ctx context.Context, ids ...string) (int, error) {
	if s.ingest == nil {
		return 0, nil
	}
	return s.ingest.ReplayDeadLetters(ctx, ids...)
}
