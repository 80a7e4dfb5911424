package provider

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// DeadLetter is a call event the recorder refused for good (a permanent
// error, or failures of its own that outlasted its retries), kept with the
// reason so that it can be listed, and replayed once the cause is fixed.
// The event keeps its raw webhook body.
type DeadLetter struct {
	ID       string    `json:"id"`
	Event    CallEvent `json:"event"`
	Error    string    `json:"error"`
	At       time.Time `json:"at"`
	Attempts int       `json:"attempts,omitempty"`
}

// deadLetters is the dead-letter file of a spool directory, with its
// content in memory (dead letters are rare). A letter is kept only once
// its file write is durable. If the file could not be read whole at open,
// it is never rewritten (a removal would drop the letters not read).
type deadLetters struct {
	path     string
	readOnly error // why the file must not be rewritten

	mu      sync.Mutex
	letters []DeadLetter
}

// openDeadLetters reads the dead-letter file in dir; unreadable records
// are logged and skipped (the file is rewritten whole on every removal,
// so damage there is rare and never blocks).
func openDeadLetters(dir string, log *slog.Logger) (*deadLetters, error) {
	d := &deadLetters{path: filepath.Join(dir, deadLetterFile)}
	f, err := os.Open(d.path)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return d, nil // none yet; an unusable directory is the spool's to report
	}
	if err != nil {
		d.readOnly = err
		return d, fmt.Errorf("provider: dead letters: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		d.readOnly = err
		return d, fmt.Errorf("provider: dead letters: %w", err)
	}
	err = frameReader{r: f, size: st.Size()}.scanFrames(func(payload []byte, _, _ int64) bool {
		var l DeadLetter
		if json.Unmarshal(payload, &l) == nil {
			d.letters = append(d.letters, l)
		}
		return true
	}, func(dm damage) {
		log.Error("calltrack: dead-letter file: damaged bytes skipped", "offset", dm.off, "bytes", dm.len)
	})
	if err != nil {
		d.readOnly = err
		return d, fmt.Errorf("provider: dead letters: %w", err)
	}
	return d, nil
}

// add keeps l, in memory at once and on disk with an fsync.
func (d *deadLetters) add(l DeadLetter) (DeadLetter, error) {
	if l.ID == "" {
		l.ID = uuid.NewString()
	}
	payload, err := json.Marshal(l)
	if err != nil {
		return l, fmt.Errorf("provider: dead letters: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := os.OpenFile(d.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return l, fmt.Errorf("provider: dead letters: %w", err)
	}
	_, err = f.Write(appendFrame(nil, payload))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return l, fmt.Errorf("provider: dead letters: %w", err)
	}
	d.letters = append(d.letters, l)
	return l, nil
}

func (d *deadLetters) list() []DeadLetter {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.letters)
}

// get returns the letter with the given id as it is now.
func (d *deadLetters) get(id string) (DeadLetter, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	i := slices.IndexFunc(d.letters, func(l DeadLetter) bool { return l.ID == id })
	if i < 0 {
		return DeadLetter{}, false
	}
	return d.letters[i], true
}

// erase drops the letters whose events edit says to drop and replaces
// the events it rewrites, in one rewrite of the file, and returns how
// many letters it dropped or rewrote.
func (d *deadLetters) erase(edit func(CallEvent) (drop bool, rewrite *CallEvent)) (int, error) {
	ids := map[string]bool{}
	events := map[string]CallEvent{}
	for _, l := range d.list() {
		switch drop, rw := edit(l.Event); {
		case drop:
			ids[l.ID] = true
		case rw != nil:
			events[l.ID] = *rw
		}
	}
	if len(ids)+len(events) == 0 {
		return 0, nil
	}
	if err := d.remove(ids, events); err != nil {
		return 0, err
	}
	return len(ids) + len(events), nil
}

func (d *deadLetters) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.letters)
}

// remove drops the letters with the given ids, gives those in events
// their new event, and rewrites the file atomically.
func (d *deadLetters) remove(ids map[string]bool, events map[string]CallEvent) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.readOnly != nil {
		return fmt.Errorf("provider: dead letters: not rewritten, the file could not be read whole: %w", d.readOnly)
	}
	// The file is rewritten first and memory follows only once it is
	// safe: a failed rewrite leaves the letters in both, so a retried
	// erasure or replay finds them again.
	kept := slices.DeleteFunc(slices.Clone(d.letters), func(l DeadLetter) bool { return ids[l.ID] })
	for i, l := range kept {
		if e, ok := events[l.ID]; ok {
			kept[i].Event = e
		}
	}
	var buf []byte
	for _, l := range kept {
		payload, err := json.Marshal(l)
		if err != nil {
			return fmt.Errorf("provider: dead letters: %w", err)
		}
		buf = appendFrame(buf, payload)
	}
	tmp := d.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("provider: dead letters: %w", err)
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, d.path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(d.path))
	}
	if err != nil {
		return fmt.Errorf("provider: dead letters: %w", err)
	}
	d.letters = kept
	return nil
}
