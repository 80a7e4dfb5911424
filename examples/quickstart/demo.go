package main

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/dni/dashboard"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider/fake"
	"github.com/attriqs/calltrack/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

var templates = template.Must(template.ParseFS(templateFiles, "templates/*.html"))

// The demo business: a plumber with a main line and a service line, all
// numbers in the 555-01xx range that is reserved for fiction.
const (
	mainLine    = "+14155550100"
	serviceLine = "+14155550200"
	flyerNumber = "+14155550150"
)

// demoSpammer is on the demo's block list: call from it to see a call
// marked spam, never qualified.
const demoSpammer = "+12025550199"

func demoConfig() dni.Config {
	nums := func(first, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("+1415555%04d", first+i)
		}
		return out
	}
	return dni.Config{
		Classify: classify.Config{OwnDomains: []string{"example-plumbing.com"}},
		Pools: []dni.Pool{
			{PoolConfig: pool.PoolConfig{Name: "paid-search", Numbers: nums(111, 4), BusinessNumber: mainLine},
				Serves: []string{string(classify.ChannelPaidSearch)}},
			{PoolConfig: pool.PoolConfig{Name: "social", Numbers: nums(121, 3), BusinessNumber: mainLine},
				Serves: []string{string(classify.ChannelOrganicSocial), string(classify.ChannelPaidSocial)}},
			{PoolConfig: pool.PoolConfig{Name: "email", Numbers: nums(131, 2), BusinessNumber: mainLine},
				Serves: []string{string(classify.ChannelEmail)}},
			{PoolConfig: pool.PoolConfig{Name: "website", Numbers: nums(141, 4), BusinessNumber: mainLine}},
			{PoolConfig: pool.PoolConfig{Name: "service-desk", Numbers: nums(201, 3), BusinessNumber: serviceLine}},
		},
		Dedicated: []pool.DedicatedNumber{{Number: flyerNumber, BusinessNumber: mainLine,
			Campaign: "Spring flyer", Source: "flyer", Medium: "print", Channel: "Offline"}},
		Qualify: []journey.QualifyRule{{Name: "booked job", Value: 25000, Currency: "USD"}},
		// Calls are recorded, with the notice callers must hear, and the
		// fake analyzer labels them (WithAnalysis in newDemo): a real one
		// would transcribe the audio.
		Forward: dni.Forward{WhisperSource: true, Record: true, RecordingNotice: "This call may be recorded."},
		Spam:    journey.SpamConfig{Block: []string{demoSpammer}},
	}
}

// demoSpend is made-up Google Ads spend, $40 a day for the last 30 days,
// so the dashboard's sources page shows cost per call and ROAS. Imported
// again at every start, it replaces itself (spend upserts by day).
func demoSpend(now time.Time) []journey.Spend {
	today := now.UTC().Truncate(24 * time.Hour)
	rows := make([]journey.Spend, 30)
	for i := range rows {
		rows[i] = journey.Spend{Day: today.AddDate(0, 0, -i), Channel: string(classify.ChannelPaidSearch), Source: "google",
			Medium: "cpc", Campaign: "emergency-plumber", Currency: "USD", Amount: 4000}
	}
	return rows
}

// demoHolds is a made-up busy day of visitors on the paid-search pool,
// the day before yesterday (UTC): from 09:00 to 17:00 a visit every 10
// minutes (6 an hour) holds a number for 20 to 40 minutes. A tour in one
// browser ends no hold (a hold ends when its visitor has been idle for the
// session window), so without this the pools page would have no history
// to recommend a size from; with it, it shows that the pool's 4 numbers
// are too few and why.
func demoHolds(now time.Time) []pool.HoldRecord {
	day := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -2)
	numbers := demoConfig().Pools[0].Numbers
	free := make([]time.Time, len(numbers)) // when each number's last hold ends
	var holds []pool.HoldRecord
	for i := range 8 * 6 {
		from := day.Add(9*time.Hour + time.Duration(i*10)*time.Minute)
		n := i % len(numbers)
		h := pool.HoldRecord{Pool: demoConfig().Pools[0].Name, Number: numbers[n], SessionID: fmt.Sprintf("demo-history-%02d", i),
			From: from, Until: from.Add(time.Duration(20+i%3*10) * time.Minute), Reused: from.Before(free[n])}
		free[n] = h.Until
		holds = append(holds, h)
	}
	return holds
}

// recordDemoHolds records demoHolds once: not when the store already has
// holds of the pool in the last 30 days (a quickstart started again on
// its SQLite file).
func recordDemoHolds(ctx context.Context, st store.Store, now time.Time) error {
	kept, err := st.HoldsBetween(ctx, now.AddDate(0, 0, -30), now)
	if err != nil {
		return err
	}
	name := demoConfig().Pools[0].Name
	for _, h := range kept {
		if h.Pool == name {
			return nil
		}
	}
	for _, h := range demoHolds(now) {
		if err := st.RecordHold(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

// demo serves the demo site, the simulated phone, the dashboard and the
// calltrack handler.
type demo struct {
	svc    *dni.Service
	caller *fake.Caller
	base   string
	now    func() time.Time
	mux    *http.ServeMux
	// adminPassword, set before serving, guards the dashboard, the
	// reports and the demo calls (see adminOnly); empty leaves them open
	// to whoever can connect, which a loopback listener limits to this
	// machine (the reports answer only to it).
	adminPassword string
}

// newDemo makes the demo on st. With seed it writes the made-up spend and
// busy day (demoSpend, demoHolds) into st: see seedDemo for when run asks.
func newDemo(base string, st store.Store, spoolDir string, now func() time.Time, seed bool, opts ...dni.Option) (*demo, error) {
	// The fake provider's webhooks are signed with a secret made for this
	// process: only the demo's own simulated phone knows it, so nobody who
	// can reach the server can post calls into its data.
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	prov, err := fake.New(fake.Config{Secret: secret, Clock: now})
	if err != nil {
		return nil, err
	}
	d := &demo{caller: &fake.Caller{Secret: secret, Clock: now}, base: base, now: now, mux: http.NewServeMux()}
	opts = append([]dni.Option{dni.WithStore(st), dni.WithProvider(prov), dni.WithSpoolDir(spoolDir), dni.WithClock(now),
		dni.WithReportAuth(d.reportsAuth), dni.WithAnalysis(dni.NewAnalysisSink(fake.Analyzer{}))}, opts...)
	// Visitor ids are signed with a key made for this run, as the webhook
	// secret is: a demo's visitors need not outlive it. (A site sets
	// Config.VisitorKeys from its secret store; see docs/deploy.md.)
	cfg := demoConfig()
	cfg.VisitorKeys = [][]byte{make([]byte, 32)}
	if _, err := rand.Read(cfg.VisitorKeys[0]); err != nil {
		return nil, err
	}
	svc, err := dni.New(cfg, opts...)
	if err != nil {
		return nil, err
	}
	d.svc = svc
	if seed {
		if err := svc.ImportSpend(context.Background(), demoSpend(now())); err != nil {
			return nil, err
		}
		if err := recordDemoHolds(context.Background(), st, now()); err != nil {
			return nil, err
		}
	}
	d.mux.Handle(dni.DefaultPrefix, svc.Handler())
	d.mux.HandleFunc("GET /{$}", d.start)
	d.mux.HandleFunc("GET /site/{page}", d.site)
	d.mux.HandleFunc("GET /flyer", d.flyer)
	d.mux.Handle("POST /demo/call", d.adminOnly(http.HandlerFunc(d.placeCall)))
	dash, err := dashboard.New(svc, dashboard.Config{Prefix: "/dashboard", Title: "calltrack quickstart", Now: now,
		NoCalls: "No calls yet: place one from the demo phone, bottom right of every page of the demo site.",
		Links:   []dashboard.Link{{Label: "Demo start", Href: "/"}, {Label: "Demo site", Href: "/site/home"}}})
	if err != nil {
		return nil, err
	}
	// The dashboard is mounted behind the admin password, as a host mounts
	// it behind its own sign-in.
	d.mux.Handle("/dashboard", d.adminOnly(dash))
	d.mux.Handle("/dashboard/", d.adminOnly(dash))
	d.mux.Handle("GET /healthz/", localOnly(svc.HealthHandler()))
	return d, nil
}

func (d *demo) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.mux.ServeHTTP(w, r) }

func (d *demo) Close() error { return d.svc.Close() }

// localOnly lets the dashboard's own report endpoints answer only to this
// machine: reports are never public by default.
func localOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.RemoteAddr, "127.") && !strings.HasPrefix(r.RemoteAddr, "[::1]") {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// arrivals are the ways a visitor can reach the demo site.
var arrivals = []arrival{
	{"Google Ads", "utm_source=google&utm_medium=cpc&utm_campaign=emergency-plumber&gclid=demo-gclid", "paid search: the paid-search pool"},
	{"Organic search", "utm_source=google&utm_medium=organic", "tagged for the demo, since a link cannot fake its referrer"},
	{"Facebook post", "utm_source=facebook&utm_medium=social&utm_campaign=spring-tips", "organic social: the social pool"},
	{"Email newsletter", "utm_source=newsletter&utm_medium=email&utm_campaign=march-newsletter", "email: the email pool"},
	{"Typed in", "", "direct: the website pool"},
}

type arrival struct{ Label, Query, Note string }

// Href is the link to the demo site's home page with the arrival's tags.
func (a arrival) Href() string {
	if a.Query == "" {
		return "/site/home"
	}
	return "/site/home?" + a.Query
}

func (d *demo) start(w http.ResponseWriter, r *http.Request) {
	render(w, "start.html", map[string]any{"Arrivals": arrivals, "Flyer": nationalFormat(flyerNumber)})
}

var pages = map[string]string{"home": "Home", "services": "Services", "contact": "Contact"}

func (d *demo) site(w http.ResponseWriter, r *http.Request) {
	page := r.PathValue("page")
	title, ok := pages[page]
	if !ok {
		http.NotFound(w, r)
		return
	}
	render(w, "site.html", map[string]any{"Page": page, "Title": title, "Script": d.svc.ScriptSrc()})
}

func (d *demo) flyer(w http.ResponseWriter, r *http.Request) {
	render(w, "flyer.html", map[string]any{"Number": nationalFormat(flyerNumber), "E164": flyerNumber})
}

// callRequest is what the demo page's phone sends.
type callRequest struct {
	Number string `json:"number"` // as shown on the page, any format
	From   string `json:"from"`   // the caller's own number
	TalkS  int    `json:"talk_s"` // 0: nobody answers
}

// placeCall dials a number through the fake provider's signed webhooks,
// exactly as a telephony provider would call calltrack.
func (d *demo) placeCall(w http.ResponseWriter, r *http.Request) {
	var req callRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	// Typed by a person: ParseValid, read as US when written nationally.
	to, err := phone.ParseValid(req.Number, "US")
	if err != nil {
		http.Error(w, "number: "+err.Error(), http.StatusBadRequest)
		return
	}
	from, err := phone.ParseValid(req.From, "US")
	if err != nil {
		http.Error(w, "from: "+err.Error(), http.StatusBadRequest)
		return
	}
	if req.TalkS < 0 || req.TalkS > 3600 {
		http.Error(w, "talk_s: between 0 and 3600", http.StatusBadRequest)
		return
	}
	call := fake.Call{ID: "demo-" + uuid.NewString()[:8], From: from, To: to, Answered: req.TalkS > 0, Duration: time.Duration(req.TalkS) * time.Second}
	ans, err := d.caller.PlaceCall(r.Context(), d.base+dni.DefaultPrefix+"webhooks/fake", call)
	if err != nil {
		http.Error(w, "placing the call: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"call_id": call.ID, "forwarded_to": nationalFormat(ans.To), "whisper": ans.Say})
}

// nationalFormat writes an E.164 number the way its country writes it.
func nationalFormat(e164 string) string { return phone.National(e164) }

func money(minor int64) string {
	return fmt.Sprintf("$%d.%02d", minor/100, minor%100)
}

func render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := templates.ExecuteTemplate(w, name, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
