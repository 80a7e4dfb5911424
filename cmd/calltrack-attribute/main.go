// Command calltrack-attribute is calltrack attribute in a binary of its
// own: it credits the conversions of a ChannelAttribution paths file
// under every model, with the same flags and output.
//
//	go install github.com/attriqs/calltrack/cmd/calltrack-attribute@latest
//	calltrack-attribute -paths paths.csv -models first,last,linear
//
// It links the attribution package and nothing of the telephony, phone
// number and dashboard packages calltrack carries, whose initialisers
// cost a run over a file of a million journeys about as much as reading
// it. docs/cli.md documents the flags.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/attriqs/calltrack/internal/attributecmd"
	"github.com/attriqs/calltrack/internal/cli"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run runs the command line args and returns the exit status: 0, 1 when
// the work failed, cli.ExitUsage for a command line not understood.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("calltrack-attribute", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: calltrack-attribute %s\n\n%s%s.\n\nFlags:\n", attributecmd.Usage,
			strings.ToUpper(attributecmd.Summary[:1]), attributecmd.Summary[1:])
		fs.PrintDefaults()
	}
	err := attributecmd.Run(fs, args, stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, cli.ErrUsage):
		fmt.Fprintln(stderr, strings.TrimPrefix(err.Error(), cli.ErrUsage.Error()+": "))
		return cli.ExitUsage
	}
	fmt.Fprintln(stderr, "calltrack-attribute:", err)
	return 1
}
