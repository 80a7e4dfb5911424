package provider

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// spoolFile is the name of the append-only log inside a spool directory.
const spoolFile = "calls.spool"

// maxSpoolRecord bounds one record so a corrupt length prefix cannot make
// recovery allocate gigabytes.
const maxSpoolRecord = 4 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Spool is a durable, append-only queue of call events on local disk, used
// while the recorder is unavailable. Each record is framed as a 4-byte
// big-endian length, a 4-byte CRC-32C of the payload and the JSON payload;
// Append returns only after fsync, so an acknowledged event survives a
// crash. On open, a torn record at the tail (a crash mid-write) is cut off;
// every record before it is kept.
//
// Drain hands records to a callback in append order and removes the ones
// it accepted; a crash during Drain can replay some accepted records again,
// which the recorder's idempotent upsert absorbs. One process owns a spool
// directory at a time. Methods are safe for concurrent use.
type Spool struct {
	path string

	mu      sync.Mutex
	f       *os.File // nil until first use and after Close
	pending int
	opened  bool
}

// OpenSpool opens (creating if needed) the spool in dir and recovers its
// records. It starts no goroutines.
func OpenSpool(dir string) (*Spool, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: SpoolDir is required", ErrInvalidConfig)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("provider: spool: %w", err)
	}
	s := &Spool{path: filepath.Join(dir, spoolFile)}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.openLocked(); err != nil {
		return nil, err
	}
	return s, nil
}

// openLocked opens the file, counts valid records and truncates a torn tail.
func (s *Spool) openLocked() error {
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("provider: spool: %w", err)
	}
	n, validEnd, err := scanRecords(f, nil)
	if err != nil {
		f.Close()
		return fmt.Errorf("provider: spool: %w", err)
	}
	if err := f.Truncate(validEnd); err != nil {
		f.Close()
		return fmt.Errorf("provider: spool: %w", err)
	}
	if _, err := f.Seek(validEnd, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("provider: spool: %w", err)
	}
	if !s.opened {
		// Make the file's directory entry durable once.
		if err := syncDir(filepath.Dir(s.path)); err != nil {
			f.Close()
			return err
		}
		s.opened = true
	}
	s.f, s.pending = f, n
	return nil
}

// Pending reports how many events wait in the spool.
func (s *Spool) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// Append writes ev and fsyncs before returning.
func (s *Spool) Append(ev CallEvent) error { return s.AppendBatch([]CallEvent{ev}) }

// AppendBatch writes evs with one write and one fsync (group commit), so
// a burst of events costs one disk flush, and returns after the fsync.
func (s *Spool) AppendBatch(evs []CallEvent) error {
	if len(evs) == 0 {
		return nil
	}
	var frames []byte
	for _, ev := range evs {
		payload, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("provider: spool: %w", err)
		}
		var header [8]byte
		binary.BigEndian.PutUint32(header[0:4], uint32(len(payload)))
		binary.BigEndian.PutUint32(header[4:8], crc32.Checksum(payload, crcTable))
		frames = append(frames, header[:]...)
		frames = append(frames, payload...)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		if err := s.openLocked(); err != nil {
			return err
		}
	}
	if _, err := s.f.Write(frames); err != nil {
		return fmt.Errorf("provider: spool: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("provider: spool: %w", err)
	}
	s.pending += len(evs)
	return nil
}

// Drain calls fn for each spooled event in append order and stops at the
// first error, which it returns. Events fn accepted are removed; the rest
// stay for the next Drain. Appends wait while Drain runs.
func (s *Spool) Drain(fn func(CallEvent) error) (accepted int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		if err := s.openLocked(); err != nil {
			return 0, err
		}
	}
	if s.pending == 0 {
		return 0, nil
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("provider: spool: %w", err)
	}
	var fnErr error
	var restStart int64 = -1
	_, _, scanErr := scanRecords(s.f, func(ev CallEvent, start int64) bool {
		if fnErr = fn(ev); fnErr != nil {
			restStart = start
			return false
		}
		accepted++
		return true
	})
	if scanErr != nil {
		return accepted, fmt.Errorf("provider: spool: %w", scanErr)
	}
	if restStart < 0 {
		// Everything delivered: empty the log.
		if err := s.f.Truncate(0); err != nil {
			return accepted, fmt.Errorf("provider: spool: %w", err)
		}
		if err := s.f.Sync(); err != nil {
			return accepted, fmt.Errorf("provider: spool: %w", err)
		}
		if _, err := s.f.Seek(0, io.SeekStart); err != nil {
			return accepted, fmt.Errorf("provider: spool: %w", err)
		}
		s.pending = 0
		return accepted, nil
	}
	if accepted > 0 {
		if err := s.rewriteFromLocked(restStart); err != nil {
			return accepted, err
		}
	} else if _, err := s.f.Seek(0, io.SeekEnd); err != nil {
		return accepted, fmt.Errorf("provider: spool: %w", err)
	}
	s.pending -= accepted
	return accepted, fnErr
}

// rewriteFromLocked replaces the log with its bytes from offset from to
// the end (all valid: the tail was checked at open and appends are ours):
// written to
// a temporary file, fsynced, renamed over the log, directory fsynced, so a
// crash leaves either the old or the new log, never a mix.
func (s *Spool) rewriteFromLocked(from int64) error {
	end, err := s.f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("provider: spool: %w", err)
	}
	tmpPath := s.path + ".tmp"
	tmp, err := os.OpenFile(tmpPath, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("provider: spool: %w", err)
	}
	if _, err := io.Copy(tmp, io.NewSectionReader(s.f, from, end-from)); err != nil {
		tmp.Close()
		return fmt.Errorf("provider: spool: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("provider: spool: %w", err)
	}
	if err := os.Rename(tmpPath, s.path); err != nil {
		tmp.Close()
		return fmt.Errorf("provider: spool: %w", err)
	}
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		tmp.Close()
		return err
	}
	s.f.Close()
	s.f = tmp
	if _, err := s.f.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("provider: spool: %w", err)
	}
	return nil
}

// Close releases the file. A later Append or Drain reopens it. Close is
// idempotent.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// scanRecords reads frames from the start of f, calling visit (if non-nil)
// for each decoded event with the frame's start offset; visit returning
// false stops the scan there. It returns the number of valid frames seen
// and the offset just past the last one; a short, oversized or
// checksum-failing frame ends the valid prefix.
func scanRecords(f *os.File, visit func(CallEvent, int64) bool) (n int, validEnd int64, err error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, 0, err
	}
	br := bufio.NewReader(f)
	var off int64
	var header [8]byte
	for {
		if _, err := io.ReadFull(br, header[:]); err != nil {
			return n, off, nil // EOF or torn header
		}
		size := binary.BigEndian.Uint32(header[0:4])
		if size > maxSpoolRecord {
			return n, off, nil
		}
		payload := make([]byte, size)
		if _, err := io.ReadFull(br, payload); err != nil {
			return n, off, nil
		}
		if crc32.Checksum(payload, crcTable) != binary.BigEndian.Uint32(header[4:8]) {
			return n, off, nil
		}
		var ev CallEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			return n, off, nil
		}
		start := off
		off += int64(8 + size)
		n++
		if visit != nil && !visit(ev, start) {
			return n, off, nil
		}
	}
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
