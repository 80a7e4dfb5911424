// Command quickstart serves a small demo of calltrack on embedded defaults:
// a page that classifies sample visits and any landing URL and referrer you
// type in, and a JSON endpoint doing the same.
//
//	go run ./examples/quickstart [-addr 127.0.0.1:8080]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/attriqs/calltrack/classify"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	if err := run(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(addr string) error {
	c, err := classify.New(classify.Options{OwnDomains: []string{"example-plumbing.com"}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newDemo(c), ReadHeaderTimeout: 5 * time.Second}
	fmt.Printf("calltrack quickstart: open http://%s/ (JSON: http://%s/api/classify?url=...&referrer=...)\n", ln.Addr(), ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// samples are visits as they arrive at a local plumber's site.
var samples = []struct{ Label, URL, Referrer string }{
	{"Google Ads click", "https://www.example-plumbing.com/?utm_source=google&utm_medium=cpc&utm_campaign=emergency&gclid=Cj0KCQjw", "https://www.google.com/"},
	{"Organic Google (UK)", "https://www.example-plumbing.com/", "https://www.google.co.uk/"},
	{"Facebook post", "https://www.example-plumbing.com/?fbclid=IwAR2", "https://l.facebook.com/l.php"},
	{"Microsoft Ads, untagged", "https://www.example-plumbing.com/?msclkid=5f3e", ""},
	{"Email newsletter", "https://www.example-plumbing.com/?utm_source=newsletter&utm_medium=email&utm_campaign=spring", ""},
	{"Gmail, untagged", "https://www.example-plumbing.com/", "https://mail.google.com/"},
	{"Yelp listing", "https://www.example-plumbing.com/", "https://www.yelp.com/biz/example-plumbing"},
	{"Typed in", "https://www.example-plumbing.com/", ""},
}

type row struct {
	Label, URL, Referrer string
	Source               classify.Source
}

func newDemo(c *classify.Classifier) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		rows := make([]row, 0, len(samples)+1)
		if u := r.URL.Query().Get("url"); u != "" {
			ref := r.URL.Query().Get("referrer")
			rows = append(rows, row{"Your visit", u, ref, c.Classify(classify.Visit{URL: u, Referrer: ref})})
		}
		for _, s := range samples {
			rows = append(rows, row{s.Label, s.URL, s.Referrer, c.Classify(classify.Visit{URL: s.URL, Referrer: s.Referrer})})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.Execute(w, rows); err != nil {
			slog.Error("render", "err", err)
		}
	})
	mux.HandleFunc("GET /api/classify", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s := c.Classify(classify.Visit{URL: q.Get("url"), Referrer: q.Get("referrer"), UserAgent: r.UserAgent(), Time: time.Now()})
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	})
	return mux
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>calltrack quickstart</title>
<style>body{font:15px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}code{font-size:12px;word-break:break-all}
.paid{color:#b00;font-weight:600}input{width:100%}</style></head><body>
<h1>calltrack: where did this visitor come from?</h1>
<p>Each visit's landing URL and referrer become a GA4 channel, a source / medium, and the
rule that decided it. This is what picks the tracking-number pool a visitor sees.</p>
<form method="get"><p><label>Landing URL <input name="url" placeholder="https://www.example-plumbing.com/?utm_source=..."></label></p>
<p><label>Referrer <input name="referrer" placeholder="https://www.google.com/"></label></p><button>Classify</button></form>
<table><tr><th>visit</th><th>channel</th><th>source / medium</th><th>campaign</th><th>click id</th><th>rule</th></tr>
{{range .}}<tr><td><b>{{.Label}}</b><br><code>{{.URL}}</code><br><code>{{if .Referrer}}from {{.Referrer}}{{else}}no referrer{{end}}</code></td>
<td{{if .Source.Paid}} class="paid"{{end}}>{{.Source.Channel}}</td><td>{{.Source.Source}} / {{.Source.Medium}}</td>
<td>{{.Source.Campaign}}</td><td>{{.Source.ClickID.Platform}}</td><td><code>{{.Source.Rule}}</code>
{{range .Source.Problems}}<br><small>{{.}}</small>{{end}}</td></tr>
{{end}}</table></body></html>
`))
