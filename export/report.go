package export

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/attriqs/calltrack/store"
)

// SinkStatus is where one sink's deliveries stand: the status report per
// platform.
type SinkStatus struct {
	Sink string `json:"sink"`
	// Pending are owed: never tried yet (Unsent) or tried and due again
	// (Retrying, the last failure in LastError).
	Pending  int `json:"pending"`
	Unsent   int `json:"unsent"`
	Retrying int `json:"retrying"`
	// Accepted: the platform took them. Rejected: given up on, each
	// reason counted in Reasons (the platform's own words).
	Accepted int            `json:"accepted"`
	Rejected int            `json:"rejected"`
	Reasons  map[string]int `json:"reasons,omitempty"`
	// LastError is the latest failure of a message still retrying.
	LastError string `json:"last_error,omitempty"`
	// LastAccepted is when the platform last took a message.
	LastAccepted time.Time `json:"last_accepted,omitzero"`
}

// maxReasonLen bounds a rejection reason as a report key.
const maxReasonLen = 200

// Report is each sink's SinkStatus, in the order the sinks were given,
// counted over every message the outbox keeps (retention deletes
// delivered and dead ones after a while).
func (x *Exporter) Report(ctx context.Context) ([]SinkStatus, error) {
	byName := map[string]*SinkStatus{}
	out := make([]SinkStatus, len(x.order))
	for i, s := range x.order {
		out[i] = SinkStatus{Sink: s.Name()}
		byName[s.Name()] = &out[i]
	}
	for _, state := range []store.OutboxState{store.OutboxPending, store.OutboxDelivered, store.OutboxDead} {
		msgs, err := x.st.OutboxByState(ctx, state, 0)
		if err != nil {
			return nil, err
		}
		// Most recently updated first: the first failure seen is the latest.
		for _, m := range msgs {
			st := byName[m.Sink]
			if st == nil {
				continue // a sink no longer configured
			}
			switch state {
			case store.OutboxPending:
				st.Pending++
				if m.Attempts == 0 {
					st.Unsent++
				} else {
					st.Retrying++
					if st.LastError == "" {
						st.LastError = m.LastError
					}
				}
			case store.OutboxDelivered:
				st.Accepted++
				if m.DeliveredAt.After(st.LastAccepted) {
					st.LastAccepted = m.DeliveredAt
				}
			case store.OutboxDead:
				st.Rejected++
				if st.Reasons == nil {
					st.Reasons = map[string]int{}
				}
				st.Reasons[reason(m.LastError)]++
			}
		}
	}
	return slices.Clip(out), nil
}

// reason is a rejection as a report key: trimmed and bounded.
func reason(err string) string {
	err = strings.TrimSpace(err)
	if err == "" {
		return "(no reason recorded)"
	}
	if len(err) > maxReasonLen {
		err = err[:maxReasonLen] + "…"
	}
	return err
}
