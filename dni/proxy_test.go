package dni_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/internal/logbuf"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/twilio"
	"github.com/attriqs/calltrack/store/memstore"
)

// A Twilio webhook signed for the public https URL reaches the service
// through a TLS-terminating reverse proxy, as in most deployments. The
// service sees http://backend-host; only PublicURL lets it rebuild the
// URL Twilio signed. Without it the call is refused, and the log names the
// fix.
func TestWebhookThroughTLSTerminatingProxy(t *testing.T) {
	const authToken = "twilio auth token"
	for _, tc := range []struct {
		name      string
		setPublic bool
		status    int
	}{
		{name: "PublicURL set: forwarded", setPublic: true, status: http.StatusOK},
		{name: "PublicURL empty: refused with a hint", setPublic: false, status: http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var backendURL *url.URL
			proxy := httptest.NewTLSServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(backendURL) // the backend sees its own host, over http
				pr.SetXForwarded()    // X-Forwarded-For, -Host and -Proto: https
			}})
			defer proxy.Close()

			var logs logbuf.Buffer
			prov, err := twilio.New(twilio.Config{AuthToken: authToken})
			if err != nil {
				t.Fatal(err)
			}
			cfg := dni.Config{
				Pools: []dni.Pool{{PoolConfig: pool.PoolConfig{Name: "website", BusinessNumber: "+14155550100",
					Numbers: []string{"+14155550141"}}}},
				Dedicated: []pool.DedicatedNumber{{Number: "+14155550150", BusinessNumber: "+14155550100",
					Campaign: "Spring flyer", Source: "flyer", Medium: "print", Channel: "Offline"}},
			}
			if tc.setPublic {
				cfg.PublicURL = proxy.URL
			}
			svc, err := dni.New(cfg, dni.WithStore(memstore.New()), dni.WithProvider(prov),
				dni.WithSpoolDir(t.TempDir()), dni.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			if err != nil {
				t.Fatal(err)
			}
			defer svc.Close()
			backend := httptest.NewServer(svc.Handler())
			defer backend.Close()
			backendURL, _ = url.Parse(backend.URL)

			hook := proxy.URL + dni.DefaultPrefix + "webhooks/twilio"
			form := url.Values{
				"AccountSid": {"ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}, "CallSid": {"CA0001"},
				"CallStatus": {"ringing"}, "Direction": {"inbound"},
				"From": {"+12125550123"}, "To": {"+14155550150"},
			}
			req, _ := http.NewRequest(http.MethodPost, hook, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(twilio.SignatureHeader, twilio.Sign(authToken, hook, form))
			resp, err := proxy.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d (%s), want %d; log:\n%s", resp.StatusCode, body, tc.status, logs.String())
			}
			if tc.status == http.StatusOK {
				to, _, err := twilio.ParseDial(body)
				if err != nil || to != "+14155550100" {
					t.Fatalf("answer %s: dials %q (%v), want the business line", body, to, err)
				}
				return
			}
			want := "set PublicURL to " + proxy.URL
			if !logs.Contains("calltrack: webhook rejected") || !logs.Contains(want) {
				t.Fatalf("log does not name the fix %q:\n%s", want, logs.String())
			}
		})
	}
}
