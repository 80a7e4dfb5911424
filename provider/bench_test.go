package provider_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/provider/providertest"
)

// BenchmarkInboundWebhook measures, per vendor, what the answer path does
// for an inbound call: verify the signature, parse the webhook, render the
// routing answer. Run with:
//
//	go test -run '^$' -bench . -benchmem ./provider/
func BenchmarkInboundWebhook(b *testing.B) {
	vs := vendors(b)
	names := make([]string, 0, len(vs))
	for name := range vs {
		names = append(names, name)
	}
	sort.Strings(names)
	fwd := provider.Forward{To: businessNumber, RingTimeout: 25 * time.Second}
	for _, name := range names {
		v := vs[name]
		httpReq := v.build("https://calls.example.com/hooks/"+name, "bench-call", "", 0)
		body, _ := io.ReadAll(httpReq.Body)
		req := &provider.Request{Method: http.MethodPost, URL: httpReq.URL.String(), Header: httpReq.Header, Body: body}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := v.provider.Verify(req); err != nil {
					b.Fatal(err)
				}
				ev, err := v.provider.Parse(req)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.provider.RenderForward(fwd, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRoutingAnswer measures the whole handler for an inbound call
// with the store up and with it failing (every event goes to the fsynced
// spool). The answer never waits on either, so the two should be close;
// the goal is store-down within 2x of store-up.
func BenchmarkRoutingAnswer(b *testing.B) {
	for _, mode := range []string{"store-up", "store-down"} {
		b.Run(mode, func(b *testing.B) {
			var rec provider.CallRecorder = providertest.NewMemoryRecorder()
			if mode == "store-down" {
				rec = provider.CallRecorderFunc(func(context.Context, provider.CallEvent) error { return errors.New("store stopped") })
			}
			quiet := slog.New(slog.DiscardHandler)
			in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: b.TempDir(), RetryInterval: time.Hour, Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			providertest.RunIngest(b, in)
			defer in.Close()
			p, _ := fake.New(fake.Config{Secret: []byte("bench")})
			h, err := provider.NewHandler(p, in, func(context.Context, provider.CallEvent) (provider.Forward, error) {
				return provider.Forward{To: businessNumber}, nil
			}, provider.HandlerConfig{Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			body := []byte(`{"type":"call.inbound","call_id":"bench-call","from":"+14158675309","to":"+18005551212"}`)
			sig := fake.Sign([]byte("bench"), body, time.Now())
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodPost, "http://calls.example.com/hooks/fake", bytes.NewReader(body))
				r.Header.Set(fake.SignatureHeader, sig)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("HTTP %d: %s", w.Code, w.Body)
				}
			}
			b.StopTimer()
			in.Close()
			st := in.Stats()
			b.ReportMetric(float64(st.Spooled)/float64(b.N), "spooled/op")
		})
	}
}
