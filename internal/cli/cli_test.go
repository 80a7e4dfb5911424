package cli

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(t.TempDir(), "missing")
	cases := []struct {
		name string
		args []string
		want string // substring of the one-line error; empty means none
	}{
		{name: "good", args: []string{"-n", "3", "-out", filepath.Join(dir, "x.svg")}},
		{name: "unknown flag", args: []string{"-nope"}, want: "t: flag provided but not defined: -nope (-h lists the flags)"},
		{name: "bad value", args: []string{"-n", "x"}, want: `t: invalid value "x" for flag -n`},
		{name: "positional argument", args: []string{"extra"}, want: `t: unexpected argument "extra"`},
		{name: "zero", args: []string{"-n", "0"}, want: "t: -n 0: must be at least 1"},
		{name: "missing directory", args: []string{"-out", missing + "/x.svg"}, want: "t: -out " + missing + "/x.svg: cannot write in " + missing + ": no such file or directory"},
		{name: "every problem on one line", args: []string{"-n", "0", "-out", missing + "/x.svg"}, want: "must be at least 1; -out"},
		{name: "a directory", args: []string{"-out", dir}, want: "is a directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			n := fs.Int("n", 1, "")
			out := fs.String("out", "", "")
			err := Parse(fs, c.args, Positive("n", n), WritableFile("out", out))
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			line := Line("t", err)
			if strings.Contains(line, "\n") || !strings.Contains(line, c.want) {
				t.Fatalf("line %q, want one line containing %q", line, c.want)
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("the write check left %d files behind", len(entries))
	}
}

func TestParseHelp(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	if err := Parse(fs, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
}

func TestWritableDir(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(t.TempDir(), "missing")
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		dir:                          "",
		filepath.Join(dir, "new"):    "",
		file:                         "not a directory",
		missing + "/spool":           "cannot write in " + missing,
		filepath.Join(file, "under"): "not a directory",
	} {
		err := WritableDir("spool", &path)()
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("WritableDir(%s) = %v, want %q", path, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the check created the directory")
	}
}
