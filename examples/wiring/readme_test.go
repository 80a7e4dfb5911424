package main

import (
	"os"
	"strings"
	"testing"
)

// The README's "Use it" program is this command, byte for byte, so the
// README's code compiles and is vetted with the rest of the module.
func TestREADMEShowsThisProgram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	prog, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Use it\n")
	if !ok {
		t.Fatal(`README.md has no "## Use it" section`)
	}
	_, block, ok := strings.Cut(section, "```go\n")
	if !ok {
		t.Fatal(`README.md's "Use it" section has no Go code block`)
	}
	block, _, ok = strings.Cut(block, "\n```\n")
	if !ok {
		t.Fatal(`README.md's "Use it" code block is not closed`)
	}
	if block+"\n" != string(prog) {
		t.Fatalf("README.md's \"Use it\" program differs from examples/wiring/main.go; copy main.go into the README.\nREADME:\n%s", block)
	}
}
