package provider

import (
	"bufio"
	"cmp"
	"encoding/binary"
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
	cursorFile     = "calls.cursor"     // where the handled records end, for the next open
)

// compactAt is how many handled bytes the log's head may hold before it
// is rewritten without them while events still wait behind them.
const compactAt = 16 << 20

// recycleAt is how long the log may grow before it is emptied at a moment
// when every event in it is handled. Below it the log is kept, with a
// checkpoint of where the handled records end, so that appends land in
// space already allocated (see preallocate).
const recycleAt = 4 << 20

// preallocate is how much zeroed space the log grows by at a time. Writes
// into allocated space change no file metadata, so they are made durable
// with fdatasync, which on common file systems costs a fraction of the
// journal commit an fsync of a growing file needs. The zeros are free
// space: valid records never end in a zero byte (JSON ends in '}').
const preallocate = 1 << 20

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

	end     int64  // offset just past the entry's frame
	crc     uint32 // the frame's CRC, naming it in the checkpoint
	damaged bool   // bytes that held no readable record, already quarantined
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
	// (Torn bytes are copied there too before they are cut off.)
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
// Where the handled records end is written to a checkpoint file beside
// the log (without fsync), and an open resumes there; without it (lost in
// a crash, or after damage was cut out) every record still in the log is
// delivered again, and the recorder's idempotent merge absorbs the
// repeats. One process owns a spool directory at a time.
// Methods are safe for concurrent use; Next and Done belong to one
// consumer.
type Spool struct {
	dir, path string
	log       *slog.Logger
	recovery  SpoolRecovery
	wake      chan struct{}

	mu         sync.Mutex
	flushed    *sync.Cond // signalled when a group commit ends
	f          *os.File   // nil after Close
	checkpoint *os.File   // calls.cursor, opened on first use
	broken     error      // a failed write or fsync: appends refused until Reopen
	closed     bool       // Close was called (and no Reopen since)
	end        int64      // bytes of records written and made durable
	alloc      int64      // bytes of the file: end plus zeroed space
	cursor     int64      // bytes of handled records
	records    int        // records in [0, end)
	handled    int        // records in [0, cursor)
	batch      *spoolBatch
	flushing   bool
	pausing    bool // Next is compacting: commits wait until it is done
}

// spoolBatch is one group commit: the frames of every append that arrived
// while the previous one was being flushed.
type spoolBatch struct {
	buf  []byte
	n    int
	err  error
	done chan struct{} // closed when the batch is durable or failed
	lead chan struct{} // gives one waiter the commit of this batch
}

func newBatch() *spoolBatch {
	return &spoolBatch{done: make(chan struct{}), lead: make(chan struct{}, 1)}
}

// SpoolConfig configures [OpenSpool]. The zero value means the defaults.
type SpoolConfig struct {
	// Logger receives damage found on recovery, at Error; default
	// slog.Default().
	Logger *slog.Logger
}

// OpenSpool opens (creating if needed) the spool in dir and recovers its
// records, logging damage at Error. It starts no goroutines.
func OpenSpool(dir string, cfg SpoolConfig) (*Spool, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: dir: required", ErrInvalidConfig)
	}
	s := newSpool(dir, cfg.Logger)
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
	s := &Spool{dir: dir, path: filepath.Join(dir, spoolFile), log: log, wake: make(chan struct{}, 1), batch: newBatch()}
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
	rec, err := s.recover(f)
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
	s.f, s.broken, s.closed, s.end, s.alloc = f, nil, false, rec.size, rec.alloc
	s.cursor, s.records, s.handled = rec.cursor, rec.Records, rec.handled
	s.recovery = rec.SpoolRecovery
	return nil
}

type recovered struct {
	SpoolRecovery
	f           *os.File // the rewritten log, when damage was cut out
	size, alloc int64    // the records' end; the file's size
	cursor      int64    // where the handled records end, from the checkpoint
	handled     int      // how many records lie before cursor
}

// recover checks every record of f and returns the size of its intact
// content. Damage is quarantined and the log rewritten without it; a torn
// tail is truncated.
func (s *Spool) recover(f *os.File) (recovered, error) {
	var rec recovered
	st, err := f.Stat()
	if err != nil {
		return rec, err
	}
	rec.alloc = st.Size()
	logical, err := dataEnd(f, st.Size())
	if err != nil {
		return rec, err
	}
	fr := frameReader{r: f, size: logical}
	type span struct{ off, end int64 }
	var keep []span
	var bad []damage
	// Records up to the checkpoint's frame were handled before the restart.
	at, atCRC, checkpointed := s.readCheckpoint()
	handled := 0
	err = fr.scanFrames(func(payload []byte, off, next int64) bool {
		var r spoolRecord
		if json.Unmarshal(payload, &r) != nil {
			bad = append(bad, damage{off: off, len: next - off})
			return true
		}
		keep = append(keep, span{off, next})
		if checkpointed && next == at && frameChecksum(payload) == atCRC {
			handled = len(keep)
		}
		return true
	}, func(d damage) { bad = append(bad, d) })
	if err != nil {
		return rec, err
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
	// Even a torn tail is copied aside before it is cut: the last record
	// damaged after its answer looks the same, and no byte is dropped
	// without a copy.
	if len(bad) > 0 {
		if err := s.quarantine(f, bad); err != nil {
			return rec, err
		}
	}
	if len(quarantine) == 0 {
		rec.size = logical - rec.TornBytes
		if rec.TornBytes > 0 {
			s.log.Warn("calltrack: spool: cut off an incomplete last record (a crash during its write, never acknowledged); its bytes are in the quarantine file",
				"bytes", rec.TornBytes, "kept", rec.Records, "quarantine", filepath.Join(s.dir, quarantineFile))
			if err := f.Truncate(rec.size); err != nil {
				return rec, err
			}
			if err := f.Sync(); err != nil {
				return rec, err
			}
			rec.alloc = rec.size
		}
		if handled > 0 {
			rec.cursor, rec.handled = at, handled
		}
		return rec, nil
	}

	// Damage: its bytes are beside the log; rewrite the log with the
	// intact records only, atomically. Every record is delivered again.
	for _, d := range quarantine {
		s.log.Error("calltrack: spool: damaged bytes skipped and quarantined; the records around them are kept",
			"offset", d.off, "bytes", d.len, "quarantine", filepath.Join(s.dir, quarantineFile))
	}
	tmpPath := s.path + ".tmp"
	tmp, err := os.OpenFile(tmpPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return rec, err
	}
	var size int64
	for _, sp := range keep {
		n, err := io.Copy(tmp, io.NewSectionReader(f, sp.off, sp.end-sp.off))
		if err != nil {
			tmp.Close()
			return rec, err
		}
		size += n
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return rec, err
	}
	if err := os.Rename(tmpPath, s.path); err != nil {
		tmp.Close()
		return rec, err
	}
	rec.f, rec.size, rec.alloc = tmp, size, size
	return rec, nil
}

// dataEnd returns the offset just past the last non-zero byte of the
// file's first size bytes: where the records end and preallocated zeros
// begin.
func dataEnd(f *os.File, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(0, end-int64(len(buf)))
		chunk := buf[:end-start]
		if _, err := f.ReadAt(chunk, start); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := len(chunk) - 1; i >= 0; i-- {
			if chunk[i] != 0 {
				return start + int64(i) + 1, nil
			}
		}
		end = start
	}
	return 0, nil
}

// The checkpoint says where the handled records end: the offset and the
// CRC of the last handled frame, so that a checkpoint left over from
// another generation of the log can never skip a record of this one. It
// is written without fsync: a checkpoint lost in a crash only means
// handled records are delivered again.
func (s *Spool) writeCheckpoint(at int64, crc uint32) {
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(at))
	binary.BigEndian.PutUint32(b[8:], crc)
	if s.checkpoint == nil {
		f, err := os.OpenFile(filepath.Join(s.dir, cursorFile), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return // only costs redelivery after a crash
		}
		s.checkpoint = f
	}
	_, _ = s.checkpoint.WriteAt(b[:], 0)
}

func (s *Spool) readCheckpoint() (at int64, crc uint32, ok bool) {
	b, err := os.ReadFile(filepath.Join(s.dir, cursorFile))
	if err != nil || len(b) != 12 {
		return 0, 0, false
	}
	return int64(binary.BigEndian.Uint64(b[:8])), binary.BigEndian.Uint32(b[8:]), true
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
	if s.closed {
		return ErrSpoolClosed
	}
	if s.broken != nil {
		return s.broken
	}
	b := s.batch
	b.buf = append(b.buf, frames...)
	b.n += len(entries)
	if s.flushing || s.pausing {
		// Wait for this batch to be committed, or to be handed its commit.
		s.mu.Unlock()
		select {
		case <-b.done:
			s.mu.Lock()
			return b.err
		case <-b.lead:
			s.mu.Lock()
		}
	}
	s.commitLocked(b)
	if b.err == nil {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	return b.err
}

// commitLocked writes and syncs batch b, the current batch, as its leader:
// appends arriving meanwhile gather in the next batch, whose commit is
// handed to one of its waiters when this one ends. Called with mu held;
// returns with it held.
func (s *Spool) commitLocked(b *spoolBatch) {
	s.flushing = true
	s.batch = newBatch()
	if s.broken != nil || s.f == nil {
		s.finishLocked(b, cmp.Or(s.broken, ErrSpoolClosed))
		return
	}
	if s.cursor == s.end && s.end >= recycleAt {
		// Everything is handled: start the log again. Done does the same
		// when the spool is idle; here it happens under steady traffic.
		if s.recycleLocked(); s.broken != nil {
			s.finishLocked(b, s.broken)
			return
		}
	}
	f, off, alloc := s.f, s.end, s.alloc
	need := off + int64(len(b.buf))
	grow := alloc
	if need > alloc {
		grow = need + preallocate - need%preallocate
	}
	s.mu.Unlock()
	var err error
	if grow > alloc {
		// Zero the new space first, so the records land in allocated
		// blocks; this one commit pays a full fsync for the size change.
		err = zeroFill(f, alloc, grow)
	}
	if err == nil {
		_, err = f.WriteAt(b.buf, off)
	}
	if err == nil && grow > alloc {
		err = f.Sync()
	} else if err == nil {
		err = datasync(f)
	}
	s.mu.Lock()
	if err != nil {
		// After a failed sync the file's state is unknown: refuse appends
		// until the log is reopened and checked.
		err = fmt.Errorf("provider: spool: %w", err)
		s.broken = err
	} else {
		s.end, s.alloc = need, grow
		s.records += b.n
	}
	s.finishLocked(b, err)
}

// finishLocked ends batch b's commit and hands the next batch's commit on,
// unless Next is waiting to compact.
func (s *Spool) finishLocked(b *spoolBatch, err error) {
	b.err = err
	close(b.done)
	s.flushing = false
	if !s.pausing {
		s.handOffLocked()
	}
	s.flushed.Broadcast()
}

// handOffLocked gives the commit of the current batch to one of its
// waiters, if it has any.
func (s *Spool) handOffLocked() {
	if next := s.batch; next.n > 0 {
		s.flushing = true // held for the waiter it is handed to
		next.lead <- struct{}{}
	}
}

// recycleLocked empties a log whose records are all handled. No fsync: if
// the truncation is lost in a crash, the handled records are delivered
// again and merged.
func (s *Spool) recycleLocked() {
	if err := s.f.Truncate(0); err != nil {
		s.fail(err)
		return
	}
	s.end, s.alloc, s.cursor, s.records, s.handled = 0, 0, 0, 0, 0
	s.writeCheckpoint(0, 0)
}

// zeroFill writes zeros to f over [from, to).
func zeroFill(f *os.File, from, to int64) error {
	zeros := make([]byte, min(to-from, 256<<10))
	for off := from; off < to; off += int64(len(zeros)) {
		if _, err := f.WriteAt(zeros[:min(int64(len(zeros)), to-off)], off); err != nil {
			return err
		}
	}
	return nil
}

// Next returns up to max unhandled events in log order, from the first
// one not yet passed to Done. Damage found in records written since the
// spool was opened is quarantined and skipped, as at open.
func (s *Spool) Next(max int) ([]SpoolEntry, error) {
	s.mu.Lock()
	if s.cursor >= compactAt && s.cursor < s.end && s.broken == nil && s.f != nil {
		// Cut the long handled head now, between two reads, when the
		// consumer holds no entry whose offsets it would move; commits
		// wait meanwhile.
		s.pausing = true
		for s.flushing {
			s.flushed.Wait()
		}
		err := s.compactLocked()
		s.pausing = false
		s.handOffLocked()
		if err != nil {
			s.mu.Unlock()
			return nil, err
		}
	}
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
			out = append(out, SpoolEntry{Event: r.Event, SpooledAt: r.SpooledAt, Attempts: r.Attempts, end: next, crc: frameChecksum(payload)})
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

// Done marks e, and every entry before it, handled, and records where the
// handled records end for the next open. Once every record is handled and
// the log has grown past recycleAt it is emptied. (A long handled head in
// front of waiting records is cut off by Next.)
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
	if !e.damaged {
		s.writeCheckpoint(s.cursor, e.crc)
	}
	switch {
	case s.flushing || s.broken != nil:
		return nil
	case s.cursor == s.end && s.end >= recycleAt:
		s.recycleLocked()
		return s.broken
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
	s.end, s.alloc, s.cursor = n, n, 0
	s.records -= s.handled
	s.handled = 0
	s.writeCheckpoint(0, 0)
	return nil
}

// Erase rewrites the log without the events edit says to drop, with the
// events it returns a rewrite for replaced by that rewrite (which should
// keep the event's Key: it is the same call), and without the records
// already handled, and returns how many events it dropped or rewrote:
// what a person's erasure asks of events not yet delivered (their own
// calls dropped, the calls that merely mention them scrubbed). An event
// edit neither drops nor rewrites is kept as it was. The log is rewritten
// atomically (a temporary file, fsynced, renamed over it); appends wait
// meanwhile. Damaged bytes found on the way are quarantined as Next does:
// their content cannot be read, so edit never sees it. Erase belongs to
// the consumer, like Next and Done: call it while holding no entry from
// Next.
func (s *Spool) Erase(edit func(CallEvent) (drop bool, rewrite *CallEvent)) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return 0, ErrSpoolClosed
	case s.broken != nil:
		return 0, s.broken
	case s.f == nil:
		return 0, ErrSpoolClosed
	}
	s.pausing = true
	for s.flushing {
		s.flushed.Wait()
	}
	n, err := s.eraseLocked(edit)
	s.pausing = false
	s.handOffLocked()
	return n, err
}

// eraseLocked is Erase with mu held and commits paused.
func (s *Spool) eraseLocked(edit func(CallEvent) (drop bool, rewrite *CallEvent)) (int, error) {
	if s.broken != nil || s.f == nil { // a commit failed while Erase waited
		return 0, cmp.Or(s.broken, ErrSpoolClosed)
	}
	tmpPath := s.path + ".tmp"
	tmp, err := os.OpenFile(tmpPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, fmt.Errorf("provider: spool: erase: %w", err)
	}
	w := bufio.NewWriter(tmp)
	fr := frameReader{r: s.f, size: s.end}
	var bad []damage
	var size int64
	kept, changed := 0, 0
	for off := s.cursor; off < s.end && err == nil; {
		payload, next, _, ferr := fr.frameAt(off)
		var r spoolRecord
		if ferr == nil && json.Unmarshal(payload, &r) == nil {
			drop, rw := edit(r.Event)
			if rw != nil && !drop {
				r.Event = *rw
				if payload, err = json.Marshal(r); err != nil {
					break
				}
			}
			if drop || rw != nil {
				changed++
			}
			if !drop {
				frame := appendFrame(nil, payload)
				_, err = w.Write(frame)
				size += int64(len(frame))
				kept++
			}
			off = next
			continue
		}
		if ferr != nil && !errors.Is(ferr, errNoFrame) {
			err = ferr
			break
		}
		var resumed int64
		if resumed, err = fr.resync(off); err == nil {
			bad = append(bad, damage{off: off, len: resumed - off})
			off = resumed
		}
	}
	if err == nil && len(bad) > 0 {
		err = s.quarantine(s.f, bad)
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if err == nil {
		err = os.Rename(tmpPath, s.path)
	}
	if err != nil {
		// The log is as it was.
		tmp.Close()
		os.Remove(tmpPath)
		return 0, fmt.Errorf("provider: spool: erase: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		// The rename may not last: appends stop until Reopen reads the log
		// again, whichever it is.
		tmp.Close()
		return 0, s.fail(err)
	}
	s.f.Close()
	s.f = tmp
	s.end, s.alloc, s.cursor = size, size, 0
	s.records, s.handled = kept, 0
	s.writeCheckpoint(0, 0)
	return changed, nil
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

// Reopen closes and reopens the log after a failure, checking it again;
// records after the checkpoint become unhandled and are delivered again.
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
	s.closed = true
	if s.checkpoint != nil {
		s.checkpoint.Close()
		s.checkpoint = nil
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
