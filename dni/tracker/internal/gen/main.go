// Command gen writes the minified browser tracker, tracker.min.js, from the
// sources in js/. It is run by go generate in the dni/tracker directory:
//
//	go generate ./dni/tracker
//
// The output is committed; TestGeneratedScriptIsCurrent fails when it is
// stale.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/attriqs/calltrack/dni/tracker/internal/jsbuild"
)

func main() {
	src := flag.String("src", "js", "directory of core.js and the modules")
	out := flag.String("o", "tracker.min.js", "output file")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(src, out string) error {
	core, mods, err := jsbuild.Read(os.DirFS(src))
	if err != nil {
		return err
	}
	min, err := jsbuild.Build(core, mods...)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(out); err == nil && bytes.Equal(old, min) {
		return nil // unchanged: keep the file's time stamp
	}
	return os.WriteFile(out, min, 0o644)
}
