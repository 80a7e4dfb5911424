package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRunCreditsAPathsFile(t *testing.T) {
	paths := filepath.Join(t.TempDir(), "paths.csv")
	require.NoError(t, os.WriteFile(paths, []byte("path;total_conversions;total_conversion_value;total_null\na > b;2;30.00;1\nb;1;5.50;0\n"), 0o644))
	var out, errs bytes.Buffer
	require.Equal(t, 0, run([]string{"-paths", paths, "-models", "first,last,linear"}, &out, &errs), errs.String())
	// First touch gives a the two conversions of "a > b", last touch gives b
	// all three, linear splits "a > b" in halves.
	require.Equal(t, "channel_name;first_touch_conversions;first_touch_value;last_touch_conversions;last_touch_value;linear_touch_conversions;linear_touch_value\n"+
		"a;2;30.00;0;0.00;1;15.00\n"+
		"b;1;5.50;3;35.50;2;20.50\n", out.String())
}

func TestRunExitStatus(t *testing.T) {
	var out, errs bytes.Buffer
	require.Equal(t, 2, run([]string{"-paths"}, &out, &errs), "a flag without its value is a usage error")
	require.Contains(t, errs.String(), "calltrack-attribute: flag needs an argument: -paths")

	errs.Reset()
	require.Equal(t, 1, run([]string{"-paths", filepath.Join(t.TempDir(), "missing.csv")}, &out, &errs))
	require.Contains(t, errs.String(), "calltrack-attribute: -paths:")

	errs.Reset()
	require.Equal(t, 0, run([]string{"-h"}, &out, &errs))
	require.Contains(t, errs.String(), "Usage: calltrack-attribute -paths FILE")
	require.Empty(t, out.String())
}
