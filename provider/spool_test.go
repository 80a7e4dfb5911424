package provider_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/attriqs/calltrack/provider"
)

func ev(id string) provider.CallEvent {
	return provider.CallEvent{Provider: "p", CallID: id, Status: provider.StatusRinging, Raw: []byte("raw " + id)}
}

func drainIDs(t *testing.T, s *provider.Spool, failAt string) ([]string, error) {
	t.Helper()
	var ids []string
	_, err := s.Drain(func(e provider.CallEvent) error {
		if e.CallID == failAt {
			return errors.New("store down")
		}
		ids = append(ids, e.CallID)
		return nil
	})
	return ids, err
}

func TestSpoolSurvivesReopenAndDrainsInOrder(t *testing.T) {
	dir := t.TempDir()
	s, err := provider.OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		if err := s.Append(ev(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = provider.OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Pending() != 3 {
		t.Fatalf("Pending after reopen = %d, want 3", s.Pending())
	}
	ids, err := drainIDs(t, s, "")
	if err != nil || len(ids) != 3 || ids[0] != "a" || ids[2] != "c" {
		t.Fatalf("drained %v (%v), want [a b c]", ids, err)
	}
	if s.Pending() != 0 {
		t.Fatalf("Pending after drain = %d", s.Pending())
	}
	if ids, _ := drainIDs(t, s, ""); len(ids) != 0 {
		t.Fatalf("second drain replayed %v", ids)
	}
}

func TestSpoolPartialDrainKeepsTheRest(t *testing.T) {
	dir := t.TempDir()
	s, _ := provider.OpenSpool(dir)
	for _, id := range []string{"a", "b", "c", "d"} {
		if err := s.Append(ev(id)); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := drainIDs(t, s, "c")
	if err == nil || len(ids) != 2 {
		t.Fatalf("drained %v (%v), want [a b] and an error", ids, err)
	}
	if s.Pending() != 2 {
		t.Fatalf("Pending = %d, want 2", s.Pending())
	}
	if err := s.Append(ev("e")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, _ = provider.OpenSpool(dir)
	ids, err = drainIDs(t, s, "")
	if err != nil || len(ids) != 3 || ids[0] != "c" || ids[2] != "e" {
		t.Fatalf("after restart drained %v (%v), want [c d e]", ids, err)
	}
}

func TestSpoolCutsTornTail(t *testing.T) {
	dir := t.TempDir()
	s, _ := provider.OpenSpool(dir)
	_ = s.Append(ev("a"))
	_ = s.Append(ev("b"))
	s.Close()
	path := filepath.Join(dir, "calls.spool")
	info, _ := os.Stat(path)
	// A crash in the middle of writing "b".
	if err := os.Truncate(path, info.Size()-5); err != nil {
		t.Fatal(err)
	}
	s, err := provider.OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Pending() != 1 {
		t.Fatalf("Pending = %d, want 1 (torn record dropped)", s.Pending())
	}
	_ = s.Append(ev("c"))
	ids, err := drainIDs(t, s, "")
	if err != nil || len(ids) != 2 || ids[0] != "a" || ids[1] != "c" {
		t.Fatalf("drained %v (%v), want [a c]", ids, err)
	}
}

func TestSpoolCorruptChecksumEndsValidPrefix(t *testing.T) {
	dir := t.TempDir()
	s, _ := provider.OpenSpool(dir)
	_ = s.Append(ev("a"))
	_ = s.Append(ev("b"))
	s.Close()
	path := filepath.Join(dir, "calls.spool")
	data, _ := os.ReadFile(path)
	data[len(data)-3] ^= 0xff
	_ = os.WriteFile(path, data, 0o600)
	s, _ = provider.OpenSpool(dir)
	if s.Pending() != 1 {
		t.Fatalf("Pending = %d, want 1", s.Pending())
	}
}

func TestOpenSpoolNeedsDir(t *testing.T) {
	if _, err := provider.OpenSpool(""); !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("OpenSpool(\"\") = %v, want ErrInvalidConfig", err)
	}
}

// Whatever is on disk (torn writes, foreign bytes), opening and draining
// the spool must not panic and must only yield checksummed records.
func FuzzSpoolRecovery(f *testing.F) {
	dir := f.TempDir()
	s, _ := provider.OpenSpool(dir)
	_ = s.Append(ev("a"))
	s.Close()
	valid, _ := os.ReadFile(filepath.Join(dir, "calls.spool"))
	f.Add(valid)
	f.Add(append(valid, 0, 0, 0, 9, 1, 2))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "calls.spool"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := provider.OpenSpool(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		pending := s.Pending()
		n, err := s.Drain(func(provider.CallEvent) error { return nil })
		if err != nil || n != pending || s.Pending() != 0 {
			t.Fatalf("drained %d of %d (%v)", n, pending, err)
		}
	})
}
