package dni

import (
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
// lease, session and touchpoint written, answer encoded. The clock moves 6 s
// per visit, so 1,000 numbers are never exhausted (each is held 30 min and
// cools 60). The wrk figures in docs/benchmarks.md measure the same over
// loopback.
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
	h := svc.Handler()
	body := `{"url":"https://www.example-plumbing.com/?utm_source=google&utm_medium=cpc&utm_campaign=emergency&gclid=Cj0KCQjw","referrer":"https://www.google.com/"}`
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, DefaultPrefix+"v1/visit", strings.NewReader(body))
			req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
}
