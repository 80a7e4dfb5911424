// Package cli is the command-line plumbing of the commands and examples:
// flags are parsed and checked before any work starts, and a mistake is
// reported as one line on standard error with exit status 2.
package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ExitUsage is the exit status for a bad command line, as flag uses.
const ExitUsage = 2

// Parse parses args into fs, refuses positional arguments, then runs the
// checks in order and returns every problem they find. fs writes nothing
// itself: [Exit] reports the error. -h and -help return [flag.ErrHelp].
func Parse(fs *flag.FlagSet, args []string, checks ...func() error) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w (-h lists the flags)", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: every setting is a flag (-h lists them)", fs.Arg(0))
	}
	var errs []error
	for _, check := range checks {
		if err := check(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ErrUsage is wrapped by the errors of a command line that was not
// understood, which a command reports with status [ExitUsage].
var ErrUsage = errors.New("usage")

// ParseCommand parses a subcommand's args as [Parse] does, its mistakes
// wrapping [ErrUsage] as one line; -h prints fs's usage to stderr and
// returns [flag.ErrHelp].
func ParseCommand(fs *flag.FlagSet, args []string, stderr io.Writer, checks ...func() error) error {
	err := Parse(fs, args, checks...)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stderr)
		fs.Usage()
		return err
	}
	return fmt.Errorf("%w: %s", ErrUsage, Line(fs.Name(), err))
}

// FlagError is a flag whose value was parsed but is not acceptable.
func FlagError(name, format string, a ...any) error {
	return fmt.Errorf("-%s: %s", name, fmt.Sprintf(format, a...))
}

// WriteFile writes a file through write, reporting the file's name with
// any error; a failed write leaves no partial file behind.
func WriteFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Exit reports a [Parse] error and ends the program: the flags' usage and
// status 0 for -h, otherwise one line "name: problem; problem" and status
// [ExitUsage].
func Exit(fs *flag.FlagSet, err error) {
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(os.Stderr)
		fs.Usage()
		os.Exit(0)
	}
	fmt.Fprintln(os.Stderr, Line(fs.Name(), err))
	os.Exit(ExitUsage)
}

// Line is err as one line prefixed with the program's name: joined errors
// are separated by "; ".
func Line(name string, err error) string {
	return name + ": " + strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

// Positive checks that a numeric flag is at least 1. It takes the flag's
// pointer, so the check reads the parsed value.
func Positive[N int | int64 | uint64 | float64](flagName string, v *N) func() error {
	return func() error {
		if *v < 1 {
			return fmt.Errorf("-%s %v: must be at least 1", flagName, *v)
		}
		return nil
	}
}

// WritableFile checks that a file can be created at path (its directory
// exists and is writable), without creating path itself, so a long run
// does not fail only at the end. An empty path passes. It takes the
// flag's pointer, so the check reads the parsed value.
func WritableFile(flagName string, p *string) func() error {
	return func() error {
		path := *p
		if path == "" {
			return nil
		}
		dir := filepath.Dir(path)
		f, err := os.CreateTemp(dir, ".write-check-*")
		if err != nil {
			return fmt.Errorf("-%s %s: cannot write in %s: %w", flagName, path, dir, unwrapPath(err))
		}
		name := f.Name()
		_ = f.Close()
		_ = os.Remove(name)
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			return fmt.Errorf("-%s %s: is a directory", flagName, path)
		}
		return nil
	}
}

// WritableDir checks that path is a directory that can be written, or
// that it can be created where it is named (its parent exists and is
// writable), without creating it.
func WritableDir(flagName string, p *string) func() error {
	return func() error {
		path, dir := *p, *p
		fi, err := os.Stat(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			dir = filepath.Dir(path)
		case err != nil:
			return fmt.Errorf("-%s %s: %w", flagName, path, unwrapPath(err))
		case !fi.IsDir():
			return fmt.Errorf("-%s %s: not a directory", flagName, path)
		}
		f, err := os.CreateTemp(dir, ".write-check-*")
		if err != nil {
			return fmt.Errorf("-%s %s: cannot write in %s: %w", flagName, path, dir, unwrapPath(err))
		}
		name := f.Name()
		_ = f.Close()
		return os.Remove(name)
	}
}

// unwrapPath drops the temporary file's name from a *PathError.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
