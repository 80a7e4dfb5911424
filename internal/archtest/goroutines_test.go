package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// Library code starts no goroutine of its own: background work runs in
// dni.Service.Run (and the Run methods it calls) under one errgroup, where
// Close can stop and wait for it. Hosts (examples, commands) and test
// support packages, whose helpers stand in for a host's Run, may.
func TestNoGoStatementOutsideHosts(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	hostDirs := []string{"examples/", "internal/", "/internal/cmd/", "/internal/gen/", "scripts/"}
	testSupport := []string{"provider/providertest/", "store/storetest/", "pool/pooltest/"}
	fset := token.NewFileSet()
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(path, root+string(filepath.Separator)))
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		for _, prefix := range append(hostDirs, testSupport...) {
			if strings.HasPrefix(rel, prefix) || strings.Contains(rel, prefix) && strings.HasPrefix(prefix, "/") {
				return nil
			}
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			if g, ok := n.(*ast.GoStmt); ok {
				t.Errorf("%s: a go statement in library code; run the work under Service.Run (errgroup) instead", fset.Position(g.Pos()))
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("checked only %d files: is the module root right?", checked)
	}
}
