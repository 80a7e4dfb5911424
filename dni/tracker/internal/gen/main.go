// Command gen writes the minified browser tracker, tracker.min.js, from the
// sources in js/, and each lazily loaded module of js/lazy/ as
// <name>.min.js. It is run by go generate in the dni/tracker directory:
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
	"path/filepath"
	"strings"

	"github.com/attriqs/calltrack/dni/tracker/internal/jsbuild"
)

func main() {
	src := flag.String("src", "js", "directory of core.js, the modules and lazy/")
	out := flag.String("o", "tracker.min.js", "output file; lazy modules are written beside it")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(src, out string) error {
	fsys := os.DirFS(src)
	core, mods, err := jsbuild.Read(fsys)
	if err != nil {
		return err
	}
	min, err := jsbuild.Build(core, mods...)
	if err != nil {
		return err
	}
	if err := write(out, min); err != nil {
		return err
	}
	lazy, err := jsbuild.ReadLazy(fsys)
	if err != nil {
		return err
	}
	for _, m := range lazy {
		min, err := jsbuild.BuildLazy(m)
		if err != nil {
			return err
		}
		if err := write(filepath.Join(filepath.Dir(out), strings.TrimSuffix(m.Name, ".js")+".min.js"), min); err != nil {
			return err
		}
	}
	return nil
}

// write writes b to name unless it holds b already, keeping its time stamp.
func write(name string, b []byte) error {
	if old, err := os.ReadFile(name); err == nil && bytes.Equal(old, b) {
		return nil
	}
	return os.WriteFile(name, b, 0o644)
}
