package dni

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/store/memstore"
)

// BenchmarkVisitHandler is one first page view through the HTTP handler
// with the in-memory store and allocator: decode, classify, new session,
// lease, session and touchpoint written, answer encoded. As in
// dni/internal/cmd/visitserver, which the wrk figures in docs/benchmarks.md
// measure over loopback: the client is on loopback (not bounded by
// HoldLimits), Run writes the hold history behind, and the clock moves 6 s
// per visit, so 1,000 numbers are never exhausted (each is held 30 min and
// cools 60). BenchmarkVisitAnchor is the same request through a bare
// handler, for the ratio in the same run.
func BenchmarkVisitHandler(b *testing.B) {
	numbers := make([]string, 1000)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("+1415%07d", 2000000+i)
	}
	svc, err := New(Config{
		Pools:                []Pool{{PoolConfig: pool.PoolConfig{Name: "all", Numbers: numbers, BusinessNumber: "+14155550100"}}},
		VisitsPerIPPerMinute: -1, VisitsPerVisitorPerMinute: -1,
	}, WithStore(memstore.New()), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), WithClock(SteppingClock(time.Now(), 6*time.Second)))
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	go func() { _ = svc.Run(context.Background()) }()
	benchmarkVisits(b, svc.Handler())
}

// BenchmarkVisitAnchor is BenchmarkVisitHandler's request through the
// anchor of docs/benchmarks.md (visitserver -store bare): a plain handler
// that decodes the same JSON and encodes an answer of the same shape from
// constants.
func BenchmarkVisitAnchor(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+DefaultPrefix+"v1/visit", func(w http.ResponseWriter, r *http.Request) {
		var req VisitRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(&req); err != nil || req.URL == "" {
			http.Error(w, "bad visit", http.StatusBadRequest)
			return
		}
		a := Assignment{VisitorID: "v1.0123456789abcdef0123456789abcdef", SessionID: "4f9d1c2e-8b7a-4e6f-9d3c-2b1a0f9e8d7c",
			Swaps:     []Swap{{Target: "+14155550100", Number: "+14152000001", Display: "(415) 200-0001"}},
			ExpiresAt: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC), HeartbeatS: 60}
		a.Source.Source, a.Source.Medium, a.Source.Campaign = "google", "cpc", "emergency"
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a)
	})
	benchmarkVisits(b, mux)
}

func benchmarkVisits(b *testing.B, h http.Handler) {
	body := `{"url":"https://www.example-plumbing.com/?utm_source=google&utm_medium=cpc&utm_campaign=emergency&gclid=Cj0KCQjw","referrer":"https://www.google.com/"}`
	b.ReportAllocs()
	b.ResetTimer() // not the setup: New checks 1,000 numbers
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, DefaultPrefix+"v1/visit", strings.NewReader(body))
			req.RemoteAddr = "127.0.0.1:40000" // wrk's
			req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
			req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}
