// Command calltrack runs calltrack's reports from the command line:
// attribution of a ChannelAttribution paths file, pool sizing, pool audits
// and mix-model series over a store, and the admin dashboard.
//
//	go install github.com/attriqs/calltrack/cmd/calltrack@latest
//	calltrack help
//
// docs/cli.md documents every command with an example.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one subcommand: its usage line, a short summary for the
// command list, and what it does with its arguments.
type command struct {
	name    string
	args    string // the usage line after the command's name
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"attribute", "-paths FILE [-models all|first,last,...] [-order 1..4] [-value-method last-state|conversion-share] [-out FILE]",
			"credit conversions in a ChannelAttribution paths file under every model", runAttribute},
		{"size", "-arrivals-per-hour N -session-minutes M [-window D] [-cooldown D] [-target P]",
			"recommend a number pool's size from traffic figures", runSize},
		{"audit", "-store URL -pool NAME -size N [-cooldown D] [-from DAY] [-to DAY]",
			"audit a pool's hold history in a store and recommend its size", runAudit},
		{"series", "-store URL [-from DAY] [-to DAY] [-granularity day|week] [-campaign] [-layout wide|long]",
			"write the mix-model series (Robyn/Meridian wide layout, or long)", runSeries},
		{"serve", "-store URL [-addr 127.0.0.1:8090] [-config FILE] [-read-only]",
			"serve the admin dashboard over a store", runServe},
	}
}

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "calltrack:", err)
		os.Exit(1)
	}
}

// errUsage reports a command line that was not understood; the usage has
// already been printed.
var errUsage = errors.New("usage")

// run runs the command line args (without the program name), writing
// results to stdout and usage and progress to stderr. It returns
// flag.ErrHelp after printing help that was asked for.
func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printHelp(stderr)
		return errUsage
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "-help" || name == "--help" {
		if len(args) > 1 {
			return run([]string{args[1], "-h"}, stdout, stderr)
		}
		printHelp(stdout)
		return flag.ErrHelp
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "calltrack: unknown command %q\n\n", name)
	printHelp(stderr)
	return errUsage
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "calltrack: call-tracking reports from the command line.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: calltrack <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'calltrack <command> -h' for a command's flags.")
	fmt.Fprintln(w, "A store URL is sqlite:PATH or postgres://user:pass@host:port/db?sslmode=...")
}

// newFlagSet makes the flag set of a command, printing errors and usage to
// stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, c := range commands() {
		if c.name == name {
			fs.Usage = func() {
				fmt.Fprintf(stderr, "Usage: calltrack %s %s\n\n%s.\n\nFlags:\n", c.name, c.args, upperFirst(c.summary))
				fs.PrintDefaults()
			}
		}
	}
	return fs
}

// parseFlags parses args, refusing positional arguments: every input of
// a command is a flag, so a stray word is a mistake worth reporting.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		// The flag package has printed the error, which names the flag,
		// and the usage.
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q (every input is a flag: see calltrack %s -h)", fs.Name(), fs.Arg(0), fs.Name())
	}
	return nil
}

// flagError is a flag whose value was parsed but is not acceptable.
func flagError(name, format string, a ...any) error {
	return fmt.Errorf("-%s: %s", name, fmt.Sprintf(format, a...))
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// isSet reports whether the command line gave the flag, for required
// flags whose zero value is also a valid value.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
