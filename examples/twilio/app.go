package main

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/twilio"
	"github.com/attriqs/calltrack/store"
)

// poolName is the one pool of this example: every visitor of the site gets
// a number from it.
const poolName = "website"

// webhookPath is where dni serves the Twilio webhooks.
const webhookPath = dni.DefaultPrefix + "webhooks/" + twilio.Name

// appConfig is everything newApp wires.
type appConfig struct {
	PublicURL   *url.URL // scheme://host Twilio calls, e.g. https://abc.ngrok.app
	AuthToken   string   // signs Twilio's webhooks
	Business    string   // the real line calls are forwarded to, E.164
	Numbers     []string // the pool, E.164
	Store       store.Store
	SpoolDir    string
	ReportToken string // guards /dni/reports/ when set
}

// newApp builds the dni service with Twilio mounted and the site around it.
func newApp(cfg appConfig) (*dni.Service, http.Handler, error) {
	prov, err := twilio.New(twilio.Config{AuthToken: cfg.AuthToken, DefaultRegion: "US"})
	if err != nil {
		return nil, nil, err
	}
	opts := []dni.Option{dni.WithStore(cfg.Store), dni.WithProvider(prov), dni.WithSpoolDir(cfg.SpoolDir)}
	if cfg.ReportToken != "" {
		opts = append(opts, dni.WithReportAuth(bearer(cfg.ReportToken)))
	}
	svc, err := dni.New(dni.Config{
		Pools: []dni.Pool{{PoolConfig: pool.PoolConfig{Name: poolName, Numbers: cfg.Numbers, BusinessNumber: cfg.Business}}},
		// Twilio signs the full public URL; behind a tunnel or a
		// TLS-terminating proxy we see plain HTTP and another host.
		PublicURL: cfg.PublicURL.String(),
	}, opts...)
	if err != nil {
		return nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle(dni.DefaultPrefix, svc.Handler())
	page := sitePage{ScriptSrc: svc.ScriptSrc(), Phone: phone.National(cfg.Business), Tel: cfg.Business}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = siteTemplate.Execute(w, page)
	})
	return svc, mux, nil
}

// bearer guards the report endpoints with a shared token.
func bearer(token string) func(http.Handler) http.Handler {
	want := []byte("Bearer " + token)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="calltrack reports"`)
				http.Error(w, "send Authorization: Bearer $REPORT_TOKEN", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

type sitePage struct {
	ScriptSrc string
	Phone     string
	Tel       string
}

// siteTemplate is a one-page business site: the tracker swaps the business
// number for the visitor's tracking number wherever it appears.
var siteTemplate = template.Must(template.New("site").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example Plumbing</title>
<script src="{{.ScriptSrc}}" async></script>
</head>
<body>
<h1>Example Plumbing</h1>
<p>Burst pipe? Call us now: <a href="tel:{{.Tel}}">{{.Phone}}</a></p>
<p>Open this page from an ad link (add <code>?gclid=test</code> or
<code>?utm_source=google&amp;utm_medium=cpc</code>) and the number above is
one of your Twilio tracking numbers. Call it: Twilio asks this server where
to forward the call, and the call is attributed to this visit.</p>
</body>
</html>
`))
