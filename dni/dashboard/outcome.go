package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/attriqs/calltrack/dni"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/report"
	"github.com/attriqs/calltrack/store"
)

// outcomeView is the outcome form of a call, a chat or a form.
type outcomeView struct {
	Action   string
	Explain  string // what a value set here does
	Statuses []Link // label, value
	Status   string
	Value    string // in major units, as typed
	Currency string
	Note     string
	SetAt    string // when it was last set by hand; "" when never
	Saved    bool
	Problem  string
}

var outcomeStatuses = []Link{{"Lead: not yet worth anything", string(dni.OutcomeLead)},
	{"Qualified: worth the value below", string(dni.OutcomeQualified)},
	{"Won: the job was booked", string(dni.OutcomeWon)}, {"Lost: worth nothing", string(dni.OutcomeLost)}}

// outcomeForm is the form on a call's page, filled with the outcome set
// by hand before, else with the call's value now.
func (h *handler) outcomeForm(r *http.Request, c callRow) any {
	v := &outcomeView{Action: fmt.Sprintf("%s/calls/%s/%s/outcome", h.cfg.Prefix, url.PathEscape(c.Call.Provider), url.PathEscape(c.Call.CallID)),
		Statuses: outcomeStatuses, Currency: or(c.Currency, h.cfg.Currency), Saved: r.URL.Query().Get("saved") == "1",
		Problem: problemOf(r), Explain: "A value set here wins over the qualification rules and the spam filter, also when the call is qualified again"}
	if c.Qualified {
		v.Status, v.Value = string(dni.OutcomeQualified), major(c.Value, c.Currency)
	}
	mo, err := h.svc.Store().ManualOutcome(r.Context(), journey.CallTouchpointID(c.Call.Provider, c.Call.CallID))
	if err == nil {
		v.Status, v.Value, v.Currency, v.Note = string(mo.Status), major(mo.Value, mo.Currency), or(mo.Currency, v.Currency), mo.Note
		v.SetAt = mo.SetAt.In(h.cfg.Location).Format("Jan 2 15:04")
	} else if !errors.Is(err, store.ErrNotFound) {
		h.cfg.Logger.WarnContext(r.Context(), "dashboard: reading a call's outcome", "err", err)
	}
	if p, ok := r.Context().Value(problemKey{}).(problem); ok {
		v.Status, v.Value, v.Currency, v.Note = p.form.Get("status"), p.form.Get("value"), p.form.Get("currency"), p.form.Get("note")
	}
	return v
}

// setOutcome takes the outcome form. A mistake in it goes back to the
// call's page, named; the form is same-origin only (New wraps it).
func (h *handler) setOutcome(w http.ResponseWriter, r *http.Request) {
	prov, id := r.PathValue("provider"), r.PathValue("id")
	if !parseOutcomeForm(w, r) {
		return
	}
	o, err := outcomeOf(r.PostForm)
	if err == nil {
		err = h.svc.SetOutcome(r.Context(), journey.CallTouchpointID(prov, id), o)
		if errors.Is(err, dni.ErrUnknownTouchpoint) {
			http.Error(w, "No call "+prov+"/"+id+".", http.StatusNotFound)
			return
		}
	}
	h.outcomeSaved(w, r, err, "call", h.call, fmt.Sprintf("%s/calls/%s/%s", h.cfg.Prefix, url.PathEscape(prov), url.PathEscape(id)), url.Values{})
}

// parseOutcomeForm reads a posted outcome form of bounded size; false
// when it answered the request with the error.
func parseOutcomeForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "outcome form: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

// outcomeSaved answers an outcome form whose setting ended in err. A
// refusal shows the page again (name, build), the form as typed and the
// problem named; never the problem in a URL, where a link could forge
// one. Once saved, it goes back to the page at back with q, saved and the
// period's days.
func (h *handler) outcomeSaved(w http.ResponseWriter, r *http.Request, err error, name string, build pageFunc, back string, q url.Values) {
	if err != nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		h.page(name, build)(w, r.WithContext(context.WithValue(r.Context(), problemKey{}, problem{err.Error(), r.PostForm})))
		return
	}
	q.Set("saved", "1")
	if d := r.URL.Query().Get("days"); d != "" {
		q.Set("days", d)
	}
	http.Redirect(w, r, back+"?"+q.Encode(), http.StatusSeeOther)
}

// problem is a refused outcome form: why, and what was typed.
type problem struct {
	why  string
	form url.Values
}

type problemKey struct{}

func problemOf(r *http.Request) string {
	p, _ := r.Context().Value(problemKey{}).(problem)
	return p.why
}

// outcomeOf reads the form: status, value in major units ("250", "250.00"),
// currency and note. Errors name the field.
func outcomeOf(f url.Values) (dni.Outcome, error) {
	o := dni.Outcome{Status: dni.OutcomeStatus(f.Get("status")), Currency: strings.ToUpper(strings.TrimSpace(f.Get("currency"))),
		Note: strings.TrimSpace(f.Get("note"))}
	var errs []error
	if !o.Status.Valid() {
		errs = append(errs, fmt.Errorf("status %q: choose lead, qualified, won or lost", f.Get("status")))
	}
	if len(o.Currency) != 3 || strings.Trim(o.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		errs = append(errs, fmt.Errorf("currency %q: a three-letter ISO 4217 code such as USD", f.Get("currency")))
	}
	v, err := minor(strings.TrimSpace(f.Get("value")), o.Currency)
	if err != nil {
		errs = append(errs, fmt.Errorf("value: %w", err))
	}
	o.Value = v
	if len(o.Note) > 500 {
		errs = append(errs, errors.New("note: at most 500 characters"))
	}
	return o, errors.Join(errs...)
}

// minor reads an amount in major units ("1,250.5") as minor units of
// currency; empty is zero.
func minor(s, currency string) (int64, error) {
	s = strings.ReplaceAll(s, ",", "")
	if s == "" {
		return 0, nil
	}
	digits := minorDigits(currency)
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" {
		whole = "0"
	}
	if len(frac) > digits || (hasFrac && digits == 0) {
		return 0, fmt.Errorf("%q: at most %d decimals in %s", s, digits, currency)
	}
	frac += strings.Repeat("0", digits-len(frac))
	w, err1 := strconv.ParseUint(whole, 10, 40)
	fr, err2 := strconv.ParseUint("0"+frac, 10, 16)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%q: not an amount; write it as 250 or 250.00", s)
	}
	scale := int64(1)
	for range digits {
		scale *= 10
	}
	return int64(w)*scale + int64(fr), nil
}

// major writes minor units as the form shows them: "250.00".
func major(v int64, currency string) string { return report.FormatMoney(v, currency) }
