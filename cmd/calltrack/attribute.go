package main

import (
	"io"
	"time"

	"github.com/attriqs/calltrack/internal/attributecmd"
)

// runAttribute is the attribute command; cmd/calltrack-attribute runs
// the same in a binary of its own.
func runAttribute(args []string, stdout, stderr io.Writer, _ func() time.Time) error {
	return attributecmd.Run(newFlagSet("attribute", stderr), args, stdout, stderr)
}
