package tracker

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/dni/tracker/internal/jsbuild"
)

func TestConfigValidate(t *testing.T) {
	ok := []Config{
		{},
		{Selectors: []string{".phone", "#header a.call"}, VisitorLifetime: 400 * 24 * time.Hour, SessionTimeout: time.Hour,
			HideUntilSwapped: true, HideTimeout: time.Second, Heartbeat: 30 * time.Second, RequestTimeout: time.Second, Prefix: "/track/"},
		{HideUntilSwapped: true},
		{Prefix: "https://api.example.com/dni/"},
		{GAMeasurementID: "G-ABC123XYZ9"},
	}
	for _, c := range ok {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}

	bad := Config{
		Selectors:       []string{"", "a{color:red}"},
		VisitorLifetime: 500 * 24 * time.Hour,
		SessionTimeout:  time.Second,
		HideTimeout:     time.Second, // without HideUntilSwapped
		Heartbeat:       time.Second,
		RequestTimeout:  time.Minute,
		Prefix:          "dni",
	}
	err := bad.Validate()
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("Validate = %v, want ErrConfig", err)
	}
	for _, field := range []string{"Selectors[0]", "Selectors[1]", "VisitorLifetime", "SessionTimeout", "HideTimeout", "Heartbeat", "RequestTimeout", "Prefix"} {
		if !strings.Contains(err.Error(), field+" ") {
			t.Errorf("error does not name %s:\n%v", field, err)
		}
	}

	for _, c := range []struct {
		cfg   Config
		field string
	}{
		{Config{HideUntilSwapped: true, HideTimeout: 5 * time.Second}, "HideTimeout"},
		{Config{SessionTimeout: 10 * time.Minute, Heartbeat: 20 * time.Minute}, "Heartbeat"},
		{Config{VisitorLifetime: time.Hour}, "VisitorLifetime"},
		{Config{Prefix: "ftp://x/"}, "Prefix"},
		{Config{Prefix: "/dni"}, "Prefix"},
		{Config{Prefix: "/dni/?a=1/"}, "Prefix"},
		{Config{RequestTimeout: time.Millisecond}, "RequestTimeout"},
		{Config{GAMeasurementID: "ABC123XYZ9"}, "GAMeasurementID"},
		{Config{GAMeasurementID: "G-.*"}, "GAMeasurementID"},
		{Config{GAMeasurementID: "UA-1234-1"}, "GAMeasurementID"},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%+v: Validate = %v, want an error naming %s", c.cfg, err, c.field)
		}
		if _, berr := Build(c.cfg); berr == nil {
			t.Errorf("%+v: Build accepted an invalid config", c.cfg)
		}
	}
}

func TestBuildInlinesConfig(t *testing.T) {
	s, err := Build(Config{Selectors: []string{".call-us"}, HideUntilSwapped: true, SessionTimeout: 45 * time.Minute, Prefix: "/t/", GAMeasurementID: "G-ABC123"})
	if err != nil {
		t.Fatal(err)
	}
	js := string(s.Bytes())
	for _, want := range []string{`"sel":[".call-us"]`, `"vd":365`, `"sm":45`, `"hide":300`, `"hb":60`, `"rt":5000`, `"p":"/t/"`, `"ga":"ABC123"`} {
		if !strings.Contains(js, want) {
			t.Errorf("script lacks %s: %.300s", want, js)
		}
	}
	if strings.Contains(js, configPlaceholder) || strings.Contains(js, "@modules@") {
		t.Error("a marker survived the build")
	}
	d, _ := Build(Config{})
	if d.Hash() == s.Hash() || len(d.Hash()) != 16 {
		t.Errorf("hashes %q and %q: want 16 hex digits that differ by config", d.Hash(), s.Hash())
	}
	again, _ := Build(Config{})
	if !bytes.Equal(again.Bytes(), d.Bytes()) || again.Hash() != d.Hash() {
		t.Error("two builds of one config differ")
	}
	if got := d.Src("/dni/"); got != "/dni/tracker.js?v="+d.Hash() {
		t.Errorf("Src = %q", got)
	}
}

// The configuration goes in as a JSON object that is safe in a script
// element and keeps the script ASCII.
func TestConfigEscaped(t *testing.T) {
	cfg := Config{
		Selectors: []string{`main > a[title="Tél"]`, "[data-x='\u2028\u2029']", `[data-y="& 📞"]`, `[data-z="-->"]`},
		Prefix:    "https://api.example.com/d&amp;/</script>/",
	}
	s, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := cfg.inline(s.Chat())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(s.Bytes(), conf) {
		t.Fatalf("the script does not hold the config %s", conf)
	}
	if _, err := jsbuild.Minify(string(s.Bytes()), "tracker.js"); err != nil {
		t.Errorf("the configured script does not parse: %v", err)
	}
	for i, c := range conf {
		if c >= 0x80 || strings.IndexByte("<>&", c) >= 0 {
			t.Errorf("config byte %d is %q: %s", i, c, conf)
		}
	}
	var back inline
	if err := json.Unmarshal(conf, &back); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Selectors, cfg.Selectors) || back.Prefix != cfg.Prefix {
		t.Errorf("the config reads back as %q and %q", back.Selectors, back.Prefix)
	}
}

// Modules are compiled into the core's scope; the generator does it for
// js/*.js, tests for modules of their own.
func TestBuildModules(t *testing.T) {
	s, err := buildWith(Config{}, jsbuild.Module{Name: "probe.js", Source: `onStart(function () { window.probeSend = send; });`})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(s.Bytes()), "probeSend") {
		t.Error("the module is not in the script")
	}
	// A module is compiled in the core's scope: a syntax error fails the build.
	if _, err := buildWith(Config{}, jsbuild.Module{Name: "broken.js", Source: `function (`}); err == nil || !strings.Contains(err.Error(), "broken.js") {
		t.Errorf("build of a broken module = %v, want a minify error naming the file", err)
	}
	_, mods, err := jsbuild.Read(os.DirFS("js"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mods {
		if m.Name == jsbuild.CoreFile {
			t.Error("the core is listed as a module")
		}
	}
	if _, err := build(Config{}, "(function(){})()", chatMinified); err == nil {
		t.Error("build of a script without the config placeholder succeeded")
	}
}

func TestHandler(t *testing.T) {
	s, err := Build(Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	do := func(method, target string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	decode := func(enc string, b []byte) []byte {
		var rd io.Reader = bytes.NewReader(b)
		switch enc {
		case "gzip":
			zr, err := gzip.NewReader(rd)
			if err != nil {
				t.Fatal(err)
			}
			rd = zr
		}
		out, err := io.ReadAll(rd)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	for _, c := range []struct {
		accept, enc, etag string
	}{
		{"", "", `"` + s.Hash() + `"`},
		{"gzip, deflate", "gzip", `"` + s.Hash() + `-gz"`},
		{"gzip, deflate, br, zstd", "gzip", `"` + s.Hash() + `-gz"`},
		{"br;q=0, gzip", "gzip", `"` + s.Hash() + `-gz"`},
		{"br, GZIP;q=0.1", "gzip", `"` + s.Hash() + `-gz"`},
		{"*", "gzip", `"` + s.Hash() + `-gz"`},
		{"*;q=0, gzip", "gzip", `"` + s.Hash() + `-gz"`},
		{"br, zstd", "", `"` + s.Hash() + `"`},
		{"identity", "", `"` + s.Hash() + `"`},
		{"gzip;q=0", "", `"` + s.Hash() + `"`},
		{"gzip;q=0, *", "", `"` + s.Hash() + `"`},
	} {
		w := do("GET", "/dni/tracker.js?v="+s.Hash(), map[string]string{"Accept-Encoding": c.accept})
		res := w.Result()
		if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != c.enc || res.Header.Get("ETag") != c.etag {
			t.Errorf("Accept-Encoding %q: %d, encoding %q, etag %q; want 200, %q, %s", c.accept, res.StatusCode,
				res.Header.Get("Content-Encoding"), res.Header.Get("ETag"), c.enc, c.etag)
			continue
		}
		if !bytes.Equal(decode(c.enc, w.Body.Bytes()), s.Bytes()) {
			t.Errorf("Accept-Encoding %q: body does not decode to the script", c.accept)
		}
		for k, v := range map[string]string{
			"Content-Type":  "text/javascript; charset=utf-8",
			"Vary":          "Accept-Encoding",
			"Cache-Control": "public, max-age=31536000, immutable",
		} {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}

		// The same representation again, conditionally.
		nm := do("GET", "/dni/tracker.js?v="+s.Hash(), map[string]string{"Accept-Encoding": c.accept, "If-None-Match": `"x", ` + c.etag})
		if nm.Code != http.StatusNotModified || nm.Body.Len() != 0 || nm.Header().Get("ETag") != c.etag {
			t.Errorf("If-None-Match %s: %d with %d bytes, want 304 and no body", c.etag, nm.Code, nm.Body.Len())
		}
	}

	for _, target := range []string{"/dni/tracker.js", "/dni/tracker.js?v=0123456789abcdef"} {
		w := do("GET", target, nil)
		if got := w.Header().Get("Cache-Control"); got != "public, max-age=300" {
			t.Errorf("%s: Cache-Control %q, want a short max-age", target, got)
		}
	}
	if w := do("GET", "/dni/tracker.js", map[string]string{"If-None-Match": `"other"`}); w.Code != 200 {
		t.Errorf("a stale ETag got %d, want 200", w.Code)
	}
	if w := do("GET", "/dni/tracker.js", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": `"` + s.Hash() + `"`}); w.Code != 200 {
		t.Errorf("the identity ETag matched the gzip representation: %d", w.Code)
	}
	if w := do("HEAD", "/dni/tracker.js", nil); w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %q", w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
	}
	if w := do("POST", "/dni/tracker.js", nil); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
}
