package store

import (
	"context"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
)

// Batch is what the visitor API writes behind in one go: the sessions,
// touchpoints and hold records of many visits.
type Batch struct {
	Sessions    []journey.Session
	Touchpoints []journey.Touchpoint
	Holds       []pool.HoldRecord
}

// Len is the number of records in b.
func (b Batch) Len() int { return len(b.Sessions) + len(b.Touchpoints) + len(b.Holds) }

// Batches is an optional role of a store (found by type assertion) that
// writes many records in one transaction, so that a busy site pays one
// commit for many visits.
//
//   - WriteBatch writes each session as [Sessions.PutSession], each
//     touchpoint as [Touchpoints.AddTouchpoint] and each hold as
//     [Leases.RecordHold] would, in one transaction: all are stored or none.
//   - A batch with an invalid record is refused whole with [ErrInvalid];
//     one with a record that conflicts (a touchpoint id of another Kind, a
//     hold in another Pool) is refused whole with [ErrConflict]. The caller
//     may then write the records one at a time to find the culprit.
//   - When a session or touchpoint id repeats, the last one wins; repeated
//     hold records merge as repeated RecordHold calls do.
//   - An empty batch is a no-op.
type Batches interface {
	WriteBatch(ctx context.Context, b Batch) error
}

// InMemory is an optional role of a store (found by type assertion) that
// keeps its records in the process's memory: a write costs less than
// queueing it for a batch would, so the visitor API writes to such a
// store at once, without a deadline. A store that wraps another reports
// what the wrapped one does; one that adds I/O of its own (embedding
// *memstore.Store promotes the method) must report false.
type InMemory interface {
	InMemory() bool
}

// IsInMemory reports whether s has the [InMemory] role and says so.
func IsInMemory(s any) bool {
	m, ok := s.(InMemory)
	return ok && m.InMemory()
}

// Runner is an optional role of a store with background work of its own
// (SQLite's checkpoints): the host runs it, and dni.Service.Run does,
// until ctx ends or the store is closed.
type Runner interface {
	Run(ctx context.Context) error
}
