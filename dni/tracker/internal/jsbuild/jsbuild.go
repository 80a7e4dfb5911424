// Package jsbuild assembles the browser tracker from its sources and
// minifies it with esbuild. Only the generator (go generate ./dni/tracker)
// and the tracker's tests import it, so that no host binary links esbuild.
package jsbuild

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

const (
	// CoreFile is the core of the script; every other .js file is a module.
	CoreFile = "core.js"

	// ConfigPlaceholder is the expression in core.js that stands for the
	// site's configuration. It survives minification verbatim (a global
	// name is never renamed) and appears once in the output, where the
	// tracker package puts the configuration as a JSON object.
	ConfigPlaceholder = "__ATTRIQS_CONFIG__"

	modulesMarker = "/*@modules@*/"
)

// Module is a further source file compiled into the script, inside the
// core's scope.
type Module struct {
	Name   string
	Source string
}

// Read returns the core and the modules of a js directory: every .js file
// other than the core, in name order.
func Read(fsys fs.FS) (core string, mods []Module, err error) {
	names, err := fs.Glob(fsys, "*.js")
	if err != nil {
		return "", nil, err
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return "", nil, err
		}
		if n == CoreFile {
			core = string(b)
			continue
		}
		mods = append(mods, Module{Name: path.Base(n), Source: string(b)})
	}
	if core == "" {
		return "", nil, fmt.Errorf("jsbuild: no %s", CoreFile)
	}
	return core, mods, nil
}

// LazyDir is the directory, under the js directory, of the modules loaded
// as scripts of their own once tracking starts (chat detection): the page's
// tag does not carry them.
const LazyDir = "lazy"

// ReadLazy returns the lazily loaded modules of a js directory, in name
// order.
func ReadLazy(fsys fs.FS) ([]Module, error) {
	names, err := fs.Glob(fsys, LazyDir+"/*.js")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var mods []Module
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		mods = append(mods, Module{Name: path.Base(n), Source: string(b)})
	}
	return mods, nil
}

// lazyParams are the core's names a lazy module sees, in the order the
// core's attriqs.m passes them.
const lazyParams = "send, ids, onStart, onSession, guard, cfg, w, d, script"

// BuildLazy returns m minified as a script of its own: a function of the
// core's names that the script hands to window.attriqs.m, which calls it
// with them, so the module reads as if it were compiled into the core,
// strict mode included.
func BuildLazy(m Module) ([]byte, error) {
	return Minify("window.attriqs.m(function ("+lazyParams+") {\n\"use strict\";\n"+m.Source+"\n});", m.Name)
}

// Build returns the minified script: core with mods inserted at its
// modules marker, with [ConfigPlaceholder] where the configuration goes.
// A module with a syntax error fails the build with its file name.
func Build(core string, mods ...Module) ([]byte, error) {
	// Each module alone first, so that a syntax error names its file.
	for _, m := range mods {
		if _, err := Minify(m.Source, m.Name); err != nil {
			return nil, err
		}
	}
	if strings.Count(core, ConfigPlaceholder) != 1 || strings.Count(core, modulesMarker) != 1 {
		return nil, errors.New("jsbuild: core.js lacks its config placeholder or modules marker, or has one twice")
	}
	var src strings.Builder
	for _, m := range mods {
		fmt.Fprintf(&src, "\n// module %s\n%s\n", m.Name, m.Source)
	}
	min, err := Minify(strings.Replace(core, modulesMarker, src.String(), 1), "tracker.js")
	if err != nil {
		return nil, err
	}
	if n := bytes.Count(min, []byte(ConfigPlaceholder)); n != 1 {
		return nil, fmt.Errorf("jsbuild: the minified script holds the config placeholder %d times, want once", n)
	}
	return min, nil
}

// Minify runs esbuild's transform on src, named name in errors: whitespace,
// identifiers and syntax minified, ASCII output, lowered to ES2017.
func Minify(src, name string) ([]byte, error) {
	res := api.Transform(src, api.TransformOptions{
		Loader:            api.LoaderJS,
		Target:            api.ES2017,
		MinifyWhitespace:  true,
		MinifyIdentifiers: true,
		MinifySyntax:      true,
		LegalComments:     api.LegalCommentsNone,
		Charset:           api.CharsetASCII,
		Sourcefile:        name,
	})
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return nil, fmt.Errorf("jsbuild: minify %s: %s", name, strings.Join(msgs, "\n"))
	}
	return bytes.TrimSpace(res.Code), nil
}
