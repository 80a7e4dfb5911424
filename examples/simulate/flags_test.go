package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/attriqs/calltrack/internal/cli/clitest"
)

func TestMain(m *testing.M) { clitest.Main(m, main) }

func TestBadFlagsExitAtOnce(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing") // a directory that is not there
	clitest.BadFlags(t, map[string]string{
		"-svg " + missing + "/x.svg": "simulate: -svg " + missing + "/x.svg: cannot write in " + missing,
		"-svg " + os.TempDir():       "is a directory",
		"-visits 0":                  "visits 0 must be positive",
		"-callers 2":                 "caller share 2 must be in (0, 1]",
		"-sizes 5,x":                 `-sizes: "x" is not a positive number`,
		"-session 0s -trough 0":      "trough share 0 must be in (0, 1]; session length",
		"-nosuchflag":                "flag provided but not defined: -nosuchflag",
		"-peak many":                 `invalid value "many" for flag -peak`,
	})
}

// With standard error redirected to a file, no \r progress bar is drawn.
func TestNoProgressBarWhenNotATerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Fatal("a file is taken for a terminal")
	}
	code, stderr := clitest.Run(t, "-visits", "2000", "-sizes", "5", "-svg", "")
	if code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr)
	}
	if stderr != "" {
		t.Fatalf("stderr %q, want nothing when it is not a terminal", stderr)
	}
}
