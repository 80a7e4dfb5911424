package dni_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store/memstore"
)

// The README's wiring, with the in-memory store and the fake provider.
func Example() {
	spool, err := os.MkdirTemp("", "calls")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(spool)
	prov, err := fake.New(fake.Config{Secret: []byte("webhook secret")})
	if err != nil {
		log.Fatal(err)
	}
	svc, err := dni.New(dni.Config{
		Classify: classify.Config{OwnDomains: []string{"example-plumbing.com"}},
		Pools: []dni.Pool{
			{PoolConfig: pool.PoolConfig{Name: "paid-search", BusinessNumber: "+14155550100",
				Numbers: []string{"+14155550111", "+14155550112", "+14155550113"}},
				Serves: []string{"Paid Search"}},
			{PoolConfig: pool.PoolConfig{Name: "website", BusinessNumber: "+14155550100",
				Numbers: []string{"+14155550141", "+14155550142"}}},
		},
		Dedicated: []pool.DedicatedNumber{{Number: "+14155550150", BusinessNumber: "+14155550100",
			Campaign: "Spring flyer", Source: "flyer", Medium: "print", Channel: "Offline"}},
		Qualify: []journey.QualifyRule{{Name: "booked job", MinTalk: time.Minute, Value: 25000, Currency: "USD"}},
	}, dni.WithStore(memstore.New()), dni.WithProvider(prov), dni.WithSpoolDir(spool))
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Close()
	go svc.Run(context.Background()) // records calls and keeps history until Close
	srv := httptest.NewServer(svc.Handler())
	defer srv.Close()

	a, err := svc.Visit(context.Background(), dni.VisitRequest{
		URL:       "https://www.example-plumbing.com/?utm_source=google&utm_medium=cpc&gclid=Cj0KCQjw",
		Referrer:  "https://www.google.com/",
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Source.Channel, "→", a.Swaps[0].Target, "shows as a number of the paid-search pool:", strings.HasPrefix(a.Swaps[0].Number, "+1415555011"))

	caller := &fake.Caller{Secret: []byte("webhook secret")}
	ans, err := caller.PlaceCall(context.Background(), srv.URL+"/dni/webhooks/fake",
		fake.Call{ID: "CA1", From: "+12125550123", To: a.Swaps[0].Number, Answered: true, Duration: 3 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("forwarded to", ans.To)
	svc.Close() // records what was received and waits for Run

	attr, err := svc.Store().Attribution(context.Background(), "fake", "CA1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("credited to", attr.Source.Channel, "with confidence", attr.Confidence)
	// Output:
	// Paid Search → +14155550100 shows as a number of the paid-search pool: true
	// forwarded to +14155550100
	// credited to Paid Search with confidence exact
}
