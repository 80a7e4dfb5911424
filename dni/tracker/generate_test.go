package tracker

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/attriqs/calltrack/dni/tracker/internal/jsbuild"
)

// buildWith builds the script from the sources in js/ and mods, as the
// generator would, and puts cfg in.
func buildWith(cfg Config, mods ...jsbuild.Module) (*Script, error) {
	core, own, err := jsbuild.Read(os.DirFS("js"))
	if err != nil {
		return nil, err
	}
	tmpl, err := jsbuild.Build(core, append(own, mods...)...)
	if err != nil {
		return nil, err
	}
	chat, err := buildLazy("chat.js")
	if err != nil {
		return nil, err
	}
	return build(cfg, string(tmpl), string(chat))
}

// buildLazy minifies js/lazy/name as the generator does.
func buildLazy(name string) ([]byte, error) {
	lazy, err := jsbuild.ReadLazy(os.DirFS("js"))
	if err != nil {
		return nil, err
	}
	for _, m := range lazy {
		if m.Name == name {
			return jsbuild.BuildLazy(m)
		}
	}
	return nil, os.ErrNotExist
}

// TestGeneratedScriptIsCurrent fails when tracker.min.js is not what the
// generator makes of js/ now.
func TestGeneratedScriptIsCurrent(t *testing.T) {
	if configPlaceholder != jsbuild.ConfigPlaceholder {
		t.Fatalf("configPlaceholder %q differs from the generator's %q", configPlaceholder, jsbuild.ConfigPlaceholder)
	}
	core, mods, err := jsbuild.Read(os.DirFS("js"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := jsbuild.Build(core, mods...)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal([]byte(minified), want) {
		t.Fatalf("tracker.min.js is stale (%d bytes; js/ minifies to %d): run go generate ./dni/tracker", len(minified), len(want))
	}
	chat, err := buildLazy("chat.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal([]byte(chatMinified), chat) {
		t.Fatalf("chat.min.js is stale (%d bytes; js/lazy/chat.js minifies to %d): run go generate ./dni/tracker", len(chatMinified), len(chat))
	}
}

// TestHostsDoNotLinkEsbuild checks that the minifier stays out of every
// binary that uses the tracker: only the generator imports it.
func TestHostsDoNotLinkEsbuild(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH to list the imports with")
	}
	pkgs := []string{"github.com/attriqs/calltrack/dni", "github.com/attriqs/calltrack/dni/tracker"}
	out, err := exec.Command(goCmd, append([]string{"list", "-deps"}, pkgs...)...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps: %v\n%s", err, stderr)
	}
	if !strings.Contains(string(out), "github.com/attriqs/calltrack/dni/tracker\n") {
		t.Fatalf("go list -deps did not list the tracker:\n%s", out)
	}
	for dep := range strings.Lines(string(out)) {
		if strings.HasPrefix(dep, "github.com/evanw/esbuild") {
			t.Errorf("the dni import graph holds %s", strings.TrimSpace(dep))
		}
	}
}
