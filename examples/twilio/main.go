// Command twilio runs calltrack on a real Twilio account: it provisions a
// pool of local tracking numbers through Twilio's REST API, points every
// number's voice webhook and status callback at this server's public URL,
// with a fail-safe that forwards straight to the business line when this
// server does not answer, and serves the dni service with the Twilio provider mounted, so calls to
// a tracking number are forwarded to the business line and attributed to
// the visit that showed the number.
//
//	export TWILIO_ACCOUNT_SID=AC… TWILIO_AUTH_TOKEN=… PUBLIC_URL=https://abc.ngrok.app
//	go run ./examples/twilio -business +14155550100 -area-code 415 -pool-size 5          # shows what it would buy
//	go run ./examples/twilio -business +14155550100 -area-code 415 -pool-size 5 -buy     # buys, then serves
//
// It never spends money without -buy and never releases numbers. See
// README.md in this folder for the whole procedure step by step.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/internal/cli"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/twilio"
	"github.com/attriqs/calltrack/store/sqlite"
)

func main() {
	cfg, err := loadConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, cli.Line("twilio", err)) // every problem, on one line
		os.Exit(cli.ExitUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err == nil {
		err = run(ctx, cfg, ln, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "twilio:", err)
		os.Exit(1)
	}
}

// config is the command line and the environment, validated.
type config struct {
	Addr        string
	AccountSID  string
	AuthToken   string
	PublicURL   *url.URL
	APIBase     string // Twilio's REST API; tests point it at a stand-in
	Business    string
	PoolSize    int
	AreaCode    string
	Country     string
	Tag         string
	Buy         bool
	DBPath      string
	SpoolDir    string
	ReportToken string
}

// webhookURL is the URL Twilio posts voice webhooks and status callbacks to.
func (c config) webhookURL() string {
	return strings.TrimSuffix(c.PublicURL.String(), "/") + webhookPath
}

// loadConfig reads flags from args and secrets from the environment,
// reporting every problem at once.
func loadConfig(args []string, getenv func(string) string) (config, error) {
	c := config{
		AccountSID: getenv("TWILIO_ACCOUNT_SID"), AuthToken: getenv("TWILIO_AUTH_TOKEN"),
		APIBase: getenv("TWILIO_API_BASE"), ReportToken: getenv("REPORT_TOKEN"),
	}
	fs := flag.NewFlagSet("twilio", flag.ContinueOnError)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on (point your tunnel or proxy here)")
	fs.StringVar(&c.Business, "business", getenv("BUSINESS_NUMBER"), "the real business line calls are forwarded to, E.164 (or $BUSINESS_NUMBER)")
	fs.IntVar(&c.PoolSize, "pool-size", 5, "tracking numbers the pool should have")
	fs.StringVar(&c.AreaCode, "area-code", "", "area code to buy local numbers in, e.g. 415")
	fs.StringVar(&c.Country, "country", "US", "country to buy numbers in (ISO 3166 alpha-2)")
	fs.StringVar(&c.Tag, "tag", "calltrack "+poolName, "Twilio friendly name that marks the pool's numbers")
	fs.BoolVar(&c.Buy, "buy", false, "buy the numbers the pool lacks (Twilio charges for each number every month)")
	fs.StringVar(&c.DBPath, "db", "calltrack-twilio.db", "SQLite file for sessions, calls and attributions")
	fs.StringVar(&c.SpoolDir, "spool", "calltrack-spool", "directory keeping call events the store could not take yet")
	err := cli.Parse(fs, args, func() error { return c.check(getenv) }, cli.WritableFile("db", &c.DBPath))
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(os.Stderr)
		fs.Usage()
	}
	return c, err
}

// check validates the flags and the environment and fills in the parsed
// PublicURL and business number.
func (c *config) check(getenv func(string) string) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !strings.HasPrefix(c.AccountSID, "AC") {
		bad("TWILIO_ACCOUNT_SID: set it to your account SID (AC…, in the Twilio console)")
	}
	if c.AuthToken == "" {
		bad("TWILIO_AUTH_TOKEN: set it to your auth token; it also verifies Twilio's webhook signatures")
	}
	raw := getenv("PUBLIC_URL")
	switch u, err := url.Parse(raw); {
	case raw == "":
		bad("PUBLIC_URL: set it to the https URL Twilio can reach this server at, e.g. https://abc.ngrok.app")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		bad("PUBLIC_URL: %q is not an http(s) URL", raw)
	case strings.Trim(u.Path, "/") != "" || u.RawQuery != "":
		bad("PUBLIC_URL: %q: give scheme and host only; the webhooks live at %s", raw, webhookPath)
	default:
		c.PublicURL = &url.URL{Scheme: u.Scheme, Host: u.Host}
	}
	if n, err := pool.ParseNumber(c.Business); err != nil {
		bad("-business: %v", err)
	} else {
		c.Business = n
	}
	if c.PoolSize < 1 {
		bad("-pool-size %d: must be at least 1", c.PoolSize)
	}
	if c.Buy && c.AreaCode == "" {
		bad("-buy needs -area-code")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("-addr %q: want host:port, e.g. 127.0.0.1:8080", c.Addr)
	}
	return errors.Join(errs...)
}

// run provisions the pool, then serves on ln until ctx ends.
func run(ctx context.Context, cfg config, ln net.Listener, out io.Writer) error {
	numbers, err := twilio.NewNumberClient(twilio.NumberClientConfig{AccountSID: cfg.AccountSID, AuthToken: cfg.AuthToken, APIBase: cfg.APIBase})
	if err != nil {
		return err
	}
	api := newAccountAPI(cfg.APIBase, cfg.AccountSID, cfg.AuthToken)
	plan, err := provision(ctx, numbers, api, provisionOptions{
		Tag: cfg.Tag, Want: cfg.PoolSize, AreaCode: cfg.AreaCode, Country: cfg.Country, WebhookURL: cfg.webhookURL(),
		FallbackTo: cfg.Business, Buy: cfg.Buy,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Pool %q: %d numbers (%d bought now, %d re-pointed at %s)\n", cfg.Tag, len(plan.Numbers), len(plan.Bought), len(plan.Repointed), cfg.webhookURL())
	for _, n := range plan.Numbers {
		fmt.Fprintf(out, "  %s\n", n)
	}
	if plan.Missing > 0 {
		fmt.Fprintf(out, "The pool lacks %d numbers.", plan.Missing)
		if len(plan.Candidates) > 0 {
			fmt.Fprintf(out, " For sale in area code %s: %s.\nRun again with -buy to buy them.", cfg.AreaCode, strings.Join(plan.Candidates, ", "))
		}
		fmt.Fprintln(out)
	}
	if len(plan.Numbers) == 0 {
		return errors.New("no tracking numbers: run with -area-code and -buy to buy some")
	}

	st, err := sqlite.Open(ctx, cfg.DBPath, sqlite.Config{}) // migrates
	if err != nil {
		return fmt.Errorf("sqlite %s: %w", cfg.DBPath, err)
	}
	defer st.Close()
	if err := os.MkdirAll(cfg.SpoolDir, 0o700); err != nil {
		return err
	}
	svc, handler, err := newApp(appConfig{PublicURL: cfg.PublicURL, AuthToken: cfg.AuthToken, Business: cfg.Business,
		Numbers: plan.Numbers, Store: st, SpoolDir: cfg.SpoolDir, ReportToken: cfg.ReportToken})
	if err != nil {
		return err
	}
	defer svc.Close()

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() { // returns expired leases to the pool every minute
		defer close(swept)
		_ = svc.Run(sweepCtx)
	}()
	defer func() { stopSweep(); <-swept }()

	fmt.Fprintf(out, "Serving on http://%s — the site at %s/, Twilio webhooks at %s\n", ln.Addr(), cfg.PublicURL, cfg.webhookURL())
	if cfg.ReportToken != "" {
		fmt.Fprintf(out, "Calls: curl -H \"Authorization: Bearer $REPORT_TOKEN\" %s%sreports/calls\n", cfg.PublicURL, dni.DefaultPrefix)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
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
