// Package memstore is an in-memory [store.Store]: for tests, examples and
// short-lived demos. It uses the standard library only.
//
// # Behaviour
//
// Everything lives in maps behind one sync.RWMutex, so every method is safe
// for concurrent use and writes are atomic: a refused write changes nothing.
// Times are kept in UTC truncated to the microsecond, exactly as the SQL
// adapters store them, so the storetest suite holds every adapter to the
// same answers. Queries scan their maps (HoldersAt walks one number's sorted
// holds); that is fine for tests and demos, not for a million rows.
//
// # Usage
//
//	st := memstore.New()
//	err := st.PutSession(ctx, sess)
//
// Nothing is persisted: a process restart loses everything. Use the sqlite
// or postgres adapters for data that must survive.
package memstore
