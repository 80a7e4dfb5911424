// Command wiring is calltrack inside a web server: SQLite, Twilio, and a
// PublicURL for running behind a proxy. It is the README's "Use it"
// program, kept identical to it by a test.
package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/twilio"
	"github.com/attriqs/calltrack/store/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		log.Fatal(err) // configuration problems are each named
	}
}

func run(ctx context.Context) error {
	st, err := sqlite.Open(ctx, "calltrack.db", sqlite.Config{}) // creates and migrates the file
	if err != nil {
		return err
	}
	defer st.Close()
	twilioProvider, err := twilio.New(twilio.Config{AuthToken: os.Getenv("TWILIO_AUTH_TOKEN")})
	if err != nil {
		return err
	}
	svc, err := dni.New(dni.Config{
		// The URL Twilio is configured to call, e.g. https://your.site. Twilio
		// signs that exact URL; behind a TLS-terminating proxy a request looks
		// like http://internal-host, so without this every webhook gets 403.
		PublicURL: os.Getenv("PUBLIC_URL"),
		Classify:  classify.Config{OwnDomains: []string{"example-plumbing.com"}},
		Pools: []dni.Pool{
			{PoolConfig: pool.PoolConfig{Name: "paid-search", BusinessNumber: "+14155550100",
				Numbers: []string{"+14155550111", "+14155550112", "+14155550113"}},
				Serves: []string{"Paid Search"}},
			{PoolConfig: pool.PoolConfig{Name: "website", BusinessNumber: "+14155550100",
				Numbers: []string{"+14155550141", "+14155550142"}}}, // everything else
		},
		Dedicated: []pool.DedicatedNumber{{Number: "+14155550150", BusinessNumber: "+14155550100",
			Campaign: "Spring flyer", Source: "flyer", Medium: "print", Channel: "Offline"}},
		Qualify: []journey.QualifyRule{{Name: "booked job", MinTalk: time.Minute, Value: 25000, Currency: "USD"}},
	}, dni.WithStore(st), dni.WithProvider(twilioProvider),
		dni.WithSpoolDir("/var/lib/myapp/calls")) // on a persistent volume: calls wait here while the store is down
	if err != nil {
		return err
	}
	// Run records calls, writes history and sweeps leases until Close.
	go func() {
		if err := svc.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Println("calltrack:", err)
		}
	}()
	defer svc.Close() // after the server stops: records what is received, waits for Run

	http.Handle("/dni/", svc.Handler())
	// In your pages' <head>: <script src="{{svc.ScriptSrc}}"></script>
	srv := &http.Server{Addr: ":8080", ReadHeaderTimeout: 5 * time.Second}
	shutdown := make(chan error, 1)
	go func() {
		<-ctx.Done()
		shutdown <- srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return <-shutdown // the handlers are done; the deferred Close records what they received
}
