// Command calltrack runs calltrack's reports from the command line:
// attribution of a ChannelAttribution paths file, pool sizing, pool audits
// and mix-model series over a store, the keywords of Google Ads clicks,
// and the admin dashboard.
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
	"time"

	"github.com/attriqs/calltrack/internal/attributecmd"
	"github.com/attriqs/calltrack/internal/cli"
)

// command is one subcommand: its usage line, a short summary for the
// command list, and what it does with its arguments.
type command struct {
	name    string
	args    string // the usage line after the command's name
	summary string
	// run runs the command; now is the clock its default period is
	// counted from.
	run func(args []string, stdout, stderr io.Writer, now func() time.Time) error
}

func commands() []command {
	return []command{
		{"attribute", attributecmd.Usage, attributecmd.Summary, runAttribute},
		{"size", "-arrivals-per-hour N -session-minutes M [-window D] [-cooldown D] [-target P]",
			"recommend a number pool's size from traffic figures", runSize},
		{"audit", "-store URL -pool NAME -size N [-cooldown D] [-from DAY] [-to DAY]",
			"audit a pool's hold history in a store and recommend its size", runAudit},
		{"series", "-store URL [-from DAY] [-to DAY] [-granularity day|week] [-campaign] [-layout wide|long]",
			"write the mix-model series (Robyn/Meridian wide layout, or long)", runSeries},
		{"keywords", "-store URL -from DAY -to DAY [-tz Area/City] -customer-id ID -client-id ID [-login-customer-id ID]",
			"fill the keyword of sessions from Google Ads clicks (gclid), read from click_view", runKeywords},
		{"serve", "-store URL [-addr 127.0.0.1:8090] [-config FILE] [-read-only] [-allow-host NAME,...]",
			"serve the admin dashboard over a store", runServe},
	}
}

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, cli.ErrUsage):
		fmt.Fprintln(os.Stderr, "calltrack:", strings.TrimPrefix(err.Error(), cli.ErrUsage.Error()+": "))
		os.Exit(cli.ExitUsage)
	default:
		fmt.Fprintln(os.Stderr, "calltrack:", err)
		os.Exit(1)
	}
}

// run runs the command line args (without the program name), writing
// results to stdout and usage and progress to stderr. It returns
// flag.ErrHelp after printing help that was asked for.
func run(args []string, stdout, stderr io.Writer) error { return runAt(args, stdout, stderr, time.Now) }

// runAt is run with the clock now, which tests fix.
func runAt(args []string, stdout, stderr io.Writer, now func() time.Time) error {
	if len(args) == 0 {
		printHelp(stderr)
		return fmt.Errorf("%w: no command", cli.ErrUsage)
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "-help" || name == "--help" {
		if len(args) > 1 {
			return runAt([]string{args[1], "-h"}, stdout, stderr, now)
		}
		printHelp(stdout)
		return flag.ErrHelp
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(args[1:], stdout, stderr, now)
		}
	}
	printHelp(stderr)
	return fmt.Errorf("%w: unknown command %q", cli.ErrUsage, name)
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
			// Usage prints to the set's output, which cli.Parse silences
			// while parsing: cli.ParseCommand prints it for -h.
			fs.Usage = func() {
				fmt.Fprintf(fs.Output(), "Usage: calltrack %s %s\n\n%s.\n\nFlags:\n", c.name, c.args, upperFirst(c.summary))
				fs.PrintDefaults()
			}
		}
	}
	return fs
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
