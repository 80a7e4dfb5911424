// Package clitest runs an example's main in a child process of its test
// binary, so tests see the real exit status and standard error of a bad
// command line without building the program separately.
package clitest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// env makes a test binary started by [Run] run the program's main.
const env = "CALLTRACK_CLITEST_MAIN"

// Main is the test binary's TestMain: it runs main when started by [Run],
// and the tests otherwise.
func Main(m *testing.M, main func()) {
	if os.Getenv(env) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Run runs main with args in a child process and returns its exit status
// and standard error. The child gets 30 seconds.
func Run(t *testing.T, args ...string) (code int, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), env+"=1")
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatalf("running %v: %v", args, err)
	}
	return code, errBuf.String()
}

// BadFlags checks that main refuses each command line before doing any
// work: exit status 2 (a program that started its work would end some
// other way) and exactly one line on standard error, containing want.
func BadFlags(t *testing.T, cases map[string]string) {
	t.Helper()
	for args, want := range cases {
		t.Run(args, func(t *testing.T) {
			code, stderr := Run(t, strings.Fields(args)...)
			if code != 2 {
				t.Errorf("exit status %d, want 2; stderr:\n%s", code, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
				t.Errorf("stderr is not one line:\n%s", stderr)
			}
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr %q does not say %q", stderr, want)
			}
		})
	}
}
