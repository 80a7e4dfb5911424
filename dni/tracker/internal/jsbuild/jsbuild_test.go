package jsbuild

import (
	"strings"
	"testing"
)

// A lazy module runs in strict mode, as it would compiled into the core
// (whose function is strict): an assignment to an undeclared name throws
// instead of making a global.
func TestBuildLazyIsStrict(t *testing.T) {
	out, err := BuildLazy(Module{Name: "m.js", Source: "send([]);"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), `window.attriqs.m(function(`) || !strings.Contains(string(out), `{"use strict";`) {
		t.Errorf("lazy module %s: want a strict function handed to window.attriqs.m", out)
	}
}
