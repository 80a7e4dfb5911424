package main

import (
	"testing"

	"github.com/attriqs/calltrack/internal/cli/clitest"
)

func TestMain(m *testing.M) { clitest.Main(m, main) }

func TestBadFlagsExitAtOnce(t *testing.T) {
	clitest.BadFlags(t, map[string]string{
		"-instances 0":            "multiinstance: -instances 0: must be at least 1",
		"-visitors -3":            "-visitors -3: must be at least 1",
		"-workers 0":              "-workers 0: must be at least 1",
		"-pool-size -1":           "-pool-size -1: must not be negative",
		"-allocator disk":         `-allocator "disk": use redis or memory`,
		"-redis localhost":        `-redis "localhost": want host:port`,
		"-postgres ://x":          "-postgres: ",
		"-instances 0 -workers 0": "-instances 0: must be at least 1; -workers 0: must be at least 1",
		"-nosuchflag":             "flag provided but not defined: -nosuchflag",
		"-instances two":          `invalid value "two" for flag -instances`,
		"stray":                   `unexpected argument "stray"`,
	})
}
