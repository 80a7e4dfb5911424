package main

import (
	"errors"
	"io"
)

func runSeries(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("series", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return errors.New("series: waiting for package report")
}
