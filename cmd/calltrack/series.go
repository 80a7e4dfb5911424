package main

import (
	"errors"
	"io"
)

func runSeries(args []string, stdout, stderr io.Writer) error {
	return errors.New("series: not yet")
}
