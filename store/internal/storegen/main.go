// Command storegen writes the methods by which a SQL store adapter
// (store/sqlite, store/postgres) delegates [store.Store] and [store.Outbox]
// to the shared engine in store/internal/sqlstore.
//
// The adapters keep the engine in an unexported field rather than embedding
// it: methods promoted from a type in an internal package do not appear in
// go doc, so each method is written out, with a doc line naming the
// interface method whose comment states its contract. When an interface
// in store gains, loses or changes a method, run
//
//	go generate ./store/...
//
// The adapters' go:generate directives run this command in their own
// directory; it reads the store package in the directory above and writes
// zz_methods.go. A test in this package fails when a generated file is
// stale.
package main

import (
	"flag"
	"log"
	"os"
)

func main() {
	storeDir := flag.String("store", "..", "directory of the store package")
	pkg := flag.String("pkg", os.Getenv("GOPACKAGE"), "package name of the adapter")
	out := flag.String("out", OutputFile, "file to write")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("storegen: ")
	if *pkg == "" {
		log.Fatal("no package name: run through go generate or pass -pkg")
	}
	src, err := Generate(*storeDir, *pkg)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
