package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Files inside a spool directory.
const (
	spoolFile      = "calls.spool"      // the write-ahead log of call events
	quarantineFile = "calls.quarantine" // damaged bytes cut out of the log, kept for inspection
	deadLetterFile = "calls.dead"       // events the recorder refused for good
)

// compactAt is how many handled bytes the log's head may hold before it
// is rewritten without them while events still wait behind them. When
// every event has been handled the log is simply emptied.
const compactAt = 16 << 20

// ErrSpoolClosed is returned by a Spool used after Close.
var ErrSpoolClosed = errors.New("provider: spool closed")

// SpoolEntry is one event waiting in a spool.
type SpoolEntry struct {
	Event CallEvent
	// SpooledAt is when the event was first written.
	SpooledAt time.Time
	// Attempts counts deliveries that failed while other events were
	// recorded: failures of this event, not of the store.
	Attempts int

	end     int64 // offset just past the entry's frame
	damaged bool  // bytes that held no readable record, already quarantined
}

// spoolRecord is an entry's payload on disk.
type spoolRecord struct {
	Event     CallEvent `json:"event"`
	SpooledAt time.Time `json:"spooled_at"`
	Attempts  int       `json:"attempts,omitempty"`
}

// SpoolRecovery says what opening a spool found on disk.
type SpoolRecovery struct {
	// Records is how many intact events were kept.
	Records int
	// Damaged counts runs of bytes that held no valid record; their bytes,
	// DamagedBytes in all, were appended to the quarantine file.
	Damaged      int
	DamagedBytes int64
	// TornBytes is the size of an incomplete last record (a crash during
	// its write, before its fsync, so it was never acknowledged), cut off.
	TornBytes int64
}

// Spool is the write-ahead log of call events on local disk. A webhook's
// event is appended and fsynced before the webhook is answered, so an
// answered event survives a crash; concurrent appends share one write and
// one fsync (group commit). One consumer reads the events in order with
// Next and marks them handled with Done; once every event is handled the
// log is emptied.
//
// Each record is framed with a magic number, its length and a CRC-32C
// (see frame.go). Opening a spool checks every record: damaged bytes
// anywhere (a flipped bit, a zeroed page, garbage) are cut out, copied to
// a quarantine file beside the log and reported in Recovery, and reading
// resumes at the next intact record; an incomplete last record, which was
// never acknowledged, is cut off. Every intact record is kept.
//
// Records are not marked handled on disk, so after a crash every record
// still in the log is delivered again; the recorder's idempotent merge
// absorbs the repeats. One process owns a spool directory at a time.
// Methods are safe for concurrent use; Next and Done belong to one
// consumer.
type Spool struct {
	dir, path string
	log       *slog.Logger
	recovery  SpoolRecovery
	wake      chan struct{}

	mu       sync.Mutex
	flushed  *sync.Cond // signalled when a group commit ends
	f        *os.File   // nil after Close
	broken   error      // a failed write or fsync: appends refused until Reopen
	end      int64      // bytes written and fsynced
	cursor   int64      // bytes of handled records
	records  int        // records in [0, end)
	handled  int        // records in [0, cursor)
	batch    *spoolBatch
	flushing bool
}

// spoolBatch is one group commit: the frames of every append that arrived
// while the previous one was being flushed.
type spoolBatch struct {
	buf  []byte
	n    int
	done bool
	err  error
}

// OpenSpool opens (creating if needed) the spool in dir and recovers its
// records, logging damage at Error. log may be nil (slog.Default). It
// starts no goroutines.
func OpenSpool(dir string, log *slog.Logger) (*Spool, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: SpoolDir is required", ErrInvalidConfig)
	}
	s := newSpool(dir, log)
	if err := s.Broken(); err != nil {
		return nil, err
	}
	return s, nil
}

// newSpool is OpenSpool for an Ingest, which must answer calls even when
// the directory is unusable: the failure is kept as Broken, and Reopen
// tries again.
func newSpool(dir string, log *slog.Logger) *Spool {
	if log == nil {
		log = slog.Default()
	}
	s := &Spool{dir: dir, path: filepath.Join(dir, spoolFile), log: log, wake: make(chan struct{}, 1), batch: &spoolBatch{}}
	s.flushed = sync.NewCond(&s.mu)
	if err := s.open(); err != nil {
		s.broken = err
	}
	return s
}

// open opens the log and recovers it; the caller holds mu or owns s.
func (s *Spool) open() error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("provider: spool: %w", err)
	}
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("provider: spool: %w", err)
	}
	rec, size, err := s.recover(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("provider: spool: %w", err)
	}
	if rec.f != nil {
		f.Close()
		f = rec.f
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return err
	}
	s.f, s.broken, s.end, s.cursor, s.records, s.handled = f, nil, size, 0, rec.Records, 0
	s.recovery = rec.SpoolRecovery
	return nil
}

type recovered struct {
	SpoolRecovery
	f *os.File // the rewritten log, when damage was cut out
}

// recover checks every record of f and returns the size of its intact
// content. Damage is quarantined and the log rewritten without it; a torn
// tail is truncated.
func (s *Spool) recover(f *os.File) (recovered, int64, error) {
	var rec recovered
	st, err := f.Stat()
	if err != nil {
		return rec, 0, err
	}
	fr := frameReader{r: f, size: st.Size()}
	type span struct{ off, end int64 }
	var keep []span
	var bad []damage
	err = fr.scanFrames(func(payload []byte, off, next int64) bool {
		var r spoolRecord
		if json.Unmarshal(payload, &r) != nil {
			bad = append(bad, damage{off: off, len: next - off})
			return true
		}
		keep = append(keep, span{off, next})
		return true
	}, func(d damage) { bad = append(bad, d) })
	if err != nil {
		return rec, 0, err
	}
	rec.Records = len(keep)
	var quarantine []damage
	for _, d := range bad {
		if d.torn {
			rec.TornBytes += d.len
			continue
		}
		quarantine = append(quarantine, d)
		rec.Damaged++
		rec.DamagedBytes += d.len
	}
	if len(quarantine) == 0 {
		size := st.Size() - rec.TornBytes
		if rec.TornBytes > 0 {
			s.log.Warn("calltrack: spool: cut off an incomplete last record (a crash during its write, never acknowledged)",
				"bytes", rec.TornBytes, "kept", rec.Records)
			if err := f.Truncate(size); err != nil {
				return rec, 0, err
			}
			if err := f.Sync(); err != nil {
				return rec, 0, err
			}
		}
		return rec, size, nil
	}

	// Damage: keep its bytes beside the log, then rewrite the log with the
	// intact records only, atomically.
	if err := s.quarantine(f, quarantine); err != nil {
		return rec, 0, err
	}
	for _, d := range quarantine {
		s.log.Error("calltrack: spool: damaged bytes skipped and quarantined; the records around them are kept",
			"offset", d.off, "bytes", d.len, "quarantine", filepath.Join(s.dir, quarantineFile))
	}
	tmpPath := s.path + ".tmp"
	tmp, err := os.OpenFile(tmpPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return rec, 0, err
	}
	var size int64
	for _, sp := range keep {
		n, err := io.Copy(tmp, io.NewSectionReader(f, sp.off, sp.end-sp.off))
		if err != nil {
			tmp.Close()
			return rec, 0, err
		}
		size += n
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return rec, 0, err
	}
	if err := os.Rename(tmpPath, s.path); err != nil {
		tmp.Close()
		return rec, 0, err
	}
	rec.f = tmp
	return rec, size, nil
}

// quarantine appends the damaged runs of f to the quarantine file.
func (s *Spool) quarantine(f *os.File, runs []damage) error {
	q, err := os.OpenFile(filepath.Join(s.dir, quarantineFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	for _, d := range runs {
		if _, err := io.Copy(q, io.NewSectionReader(f, d.off, d.len)); err != nil {
			q.Close()
			return err
		}
	}
	if err := q.Sync(); err != nil {
		q.Close()
		return err
	}
	return q.Close()
}

// Recovery reports what the last open found on disk.
func (s *Spool) Recovery() SpoolRecovery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovery
}

// Pending reports how many events wait to be handled.
func (s *Spool) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records - s.handled
}

// Bytes reports the size of the log on disk.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end
}

// Broken reports the write or fsync failure that stopped appends, or nil.
func (s *Spool) Broken() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.broken
}

// Appended is signalled after appends are durable, for the consumer.
func (s *Spool) Appended() <-chan struct{} { return s.wake }

// Append writes evs and returns once they are fsynced, sharing the write
// and the fsync with appends that arrive meanwhile.
func (s *Spool) Append(evs ...CallEvent) error {
	now := time.Now().UTC()
	entries := make([]SpoolEntry, len(evs))
	for i, ev := range evs {
		entries[i] = SpoolEntry{Event: ev, SpooledAt: now}
	}
	return s.append(entries)
}

// Requeue appends e again, behind everything spooled since, with its
// attempts and first spool time.
func (s *Spool) Requeue(e SpoolEntry) error { return s.append([]SpoolEntry{e}) }

func (s *Spool) append(entries []SpoolEntry) error {
	if len(entries) == 0 {
		return nil
	}
	var frames []byte
	for _, e := range entries {
		payload, err := json.Marshal(spoolRecord{Event: e.Event, SpooledAt: e.SpooledAt, Attempts: e.Attempts})
		if err != nil {
			return fmt.Errorf("provider: spool: %w", err)
		}
		frames = appendFrame(frames, payload)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return s.broken
	}
	if s.f == nil {
		return ErrSpoolClosed
	}
	b := s.batch
	b.buf = append(b.buf, frames...)
	b.n += len(entries)
	for !b.done {
		if s.flushing {
			s.flushed.Wait()
			continue
		}
		// Lead this batch's commit; appends arriving meanwhile gather in
		// the next batch.
		s.flushing = true
		s.batch = &spoolBatch{}
		f, off := s.f, s.end
		s.mu.Unlock()
		_, err := f.WriteAt(b.buf, off)
		if err == nil {
			err = f.Sync()
		}
		s.mu.Lock()
		if err != nil {
			// After a failed fsync the file's state is unknown: refuse
			// appends until the log is reopened and checked.
			err = fmt.Errorf("provider: spool: %w", err)
			s.broken = err
		} else {
			s.end += int64(len(b.buf))
			s.records += b.n
		}
		b.done, b.err = true, err
		s.flushing = false
		s.flushed.Broadcast()
	}
	if b.err == nil {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return b.err
}

// Next returns up to max unhandled events in log order, from the first
// one not yet passed to Done. Damage found in records written since the
// spool was opened is quarantined and skipped, as at open.
func (s *Spool) Next(max int) ([]SpoolEntry, error) {
	s.mu.Lock()
	f, from, to, broken := s.f, s.cursor, s.end, s.broken
	s.mu.Unlock()
	if f == nil {
		if broken != nil {
			return nil, broken
		}
		return nil, ErrSpoolClosed
	}
	fr := frameReader{r: f, size: to}
	var out []SpoolEntry
	var bad []damage
	var err error
	for off := from; off < to && len(out) < max; {
		payload, next, _, ferr := fr.frameAt(off)
		var r spoolRecord
		if ferr == nil && json.Unmarshal(payload, &r) == nil {
			out = append(out, SpoolEntry{Event: r.Event, SpooledAt: r.SpooledAt, Attempts: r.Attempts, end: next})
			off = next
			continue
		}
		if ferr != nil && !errors.Is(ferr, errNoFrame) {
			err = ferr
			break
		}
		resumed, rerr := fr.resync(off)
		if rerr != nil {
			err = rerr
			break
		}
		bad = append(bad, damage{off: off, len: resumed - off})
		// The consumer passes a damaged run with Done like an entry.
		out = append(out, SpoolEntry{end: resumed, damaged: true})
		off = resumed
	}
	if len(bad) > 0 {
		if qerr := s.quarantine(f, bad); qerr != nil {
			return nil, fmt.Errorf("provider: spool: %w", qerr)
		}
		for _, d := range bad {
			s.log.Error("calltrack: spool: a record was damaged on disk after it was written; its bytes are quarantined",
				"offset", d.off, "bytes", d.len, "quarantine", filepath.Join(s.dir, quarantineFile))
		}
	}
	if err != nil {
		return out, fmt.Errorf("provider: spool: %w", err)
	}
	return out, nil
}

// Done marks e, and every entry before it, handled. Once every record in
// the log is handled the log is emptied; a long handled head is cut off.
func (s *Spool) Done(e SpoolEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return ErrSpoolClosed
	}
	if e.end <= s.cursor {
		return nil
	}
	s.cursor = e.end
	s.handled = min(s.handled+1, s.records)
	switch {
	case s.flushing || s.broken != nil:
		return nil
	case s.cursor == s.end:
		// No fsync: if the truncation is lost in a crash, the handled
		// records are delivered again and merged.
		if err := s.f.Truncate(0); err != nil {
			return s.fail(err)
		}
		s.end, s.cursor, s.records, s.handled = 0, 0, 0, 0
	case s.cursor >= compactAt:
		return s.compactLocked()
	}
	return nil
}

// compactLocked rewrites the log without its handled head: to a temporary
// file, fsynced, renamed over the log, so a crash leaves one or the other.
func (s *Spool) compactLocked() error {
	tmpPath := s.path + ".tmp"
	tmp, err := os.OpenFile(tmpPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return s.fail(err)
	}
	n, err := io.Copy(tmp, io.NewSectionReader(s.f, s.cursor, s.end-s.cursor))
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = os.Rename(tmpPath, s.path)
	}
	if err == nil {
		err = syncDir(s.dir)
	}
	if err != nil {
		tmp.Close()
		return s.fail(err)
	}
	s.f.Close()
	s.f = tmp
	s.end, s.cursor = n, 0
	s.records -= s.handled
	s.handled = 0
	return nil
}

// markBroken stops appends after a failure found outside the spool's own
// calls (a read error), so the consumer reopens and checks the log.
func (s *Spool) markBroken(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken == nil {
		s.broken = err
	}
}

func (s *Spool) fail(err error) error {
	s.broken = fmt.Errorf("provider: spool: %w", err)
	return s.broken
}

// Reopen closes and reopens the log after a failure, checking it again.
// Every record in it becomes unhandled (they are delivered again).
func (s *Spool) Reopen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.flushing {
		s.flushed.Wait()
	}
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	if err := s.open(); err != nil {
		s.broken = err
		return err
	}
	if s.recovery.Damaged > 0 || s.recovery.TornBytes > 0 {
		s.log.Warn("calltrack: spool reopened after a failure", "kept", s.recovery.Records,
			"damaged_bytes", s.recovery.DamagedBytes, "torn_bytes", s.recovery.TornBytes)
	}
	return nil
}

// Close releases the file; later calls fail with ErrSpoolClosed. Close is
// idempotent.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.flushing {
		s.flushed.Wait()
	}
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("provider: spool: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("provider: spool: %w", err)
	}
	return nil
}
