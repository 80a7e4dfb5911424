package dashboard

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/attriqs/calltrack/export"
)

// noExports is what the exports page says when the service has none.
const noExports = "No exports are configured, so calls go to no ad platform, CRM or webhook. " +
	"To add one, build an exporter on the service's store with your sinks (export.New(store, export.Config{}, sinks...): " +
	"Google Ads, HubSpot, a webhook) and give it to the service with dni.WithExports; qualified calls are then sent to each, " +
	"and this page shows how the deliveries went."

// sinkIssues is what went wrong at one sink, in the platform's words.
type sinkIssues struct {
	Sink      string
	Rejected  int
	Reasons   []reasonCount // most frequent first
	Retrying  int
	LastError string
}

// reasonCount is one rejection reason and how many messages it refused.
type reasonCount struct {
	Reason string
	Count  int
}

// exportsData is the exports page.
type exportsData struct {
	Table   *table
	Issues  []sinkIssues // the sinks with rejections or retries
	Empty   string       // no exports configured
	Nothing string       // exports configured, nothing queued yet
}

// exports is period-free: the outbox keeps each message until retention
// deletes it, so the figures are over everything it still holds.
func (h *handler) exports(r *http.Request, _ period) (string, any, *table, error) {
	sinks, err := h.svc.ExportStatus(r.Context())
	if err != nil {
		return "", nil, nil, err
	}
	d := exportsData{}
	head := headsNum(1, "Sink", "Pending", "Unsent", "Retrying", "Accepted", "Rejected")
	head = append(head, txt("Last accepted"))
	tbl := &table{Name: "exports", ID: "exports", Head: head}
	// The CSV has the platforms' words too; the page puts them under
	// the table, where long text wraps on a phone.
	csvTbl := &table{Name: tbl.Name, Head: append(slices.Clone(head), txt("Last error"), txt("Rejection reasons"))}
	total := 0
	for _, s := range sinks {
		last := "never"
		if !s.LastAccepted.IsZero() {
			last = s.LastAccepted.In(h.cfg.Location).Format("Jan 2 2006 15:04")
		}
		row := []cell{txt(s.Sink), {Text: strconv.Itoa(s.Pending), Num: true, Title: "unsent plus retrying: still owed to the platform"},
			num(s.Unsent), num(s.Retrying), num(s.Accepted), num(s.Rejected), txt(last)}
		tbl.Rows = append(tbl.Rows, row)
		is := sinkIssues{Sink: s.Sink, Rejected: s.Rejected, Reasons: reasonsOf(s), Retrying: s.Retrying, LastError: s.LastError}
		var reasons []string
		for _, rc := range is.Reasons {
			reasons = append(reasons, fmt.Sprintf("%s (%d)", rc.Reason, rc.Count))
		}
		csvTbl.Rows = append(csvTbl.Rows, append(slices.Clone(row), txt(s.LastError), txt(strings.Join(reasons, "\n"))))
		if is.Rejected > 0 || is.Retrying > 0 {
			d.Issues = append(d.Issues, is)
		}
		total += s.Pending + s.Accepted + s.Rejected
	}
	d.Table = tbl
	switch {
	case len(sinks) == 0:
		d.Empty = noExports
	case total == 0:
		d.Nothing = "Nothing sent yet: each qualified call is queued for every sink as it is recorded, and counted here."
	}
	return "Exports", d, csvTbl, nil
}

// reasonsOf is a sink's rejection reasons, most frequent first.
func reasonsOf(s export.SinkStatus) []reasonCount {
	out := make([]reasonCount, 0, len(s.Reasons))
	for _, r := range sortedKeys(s.Reasons) {
		out = append(out, reasonCount{r, s.Reasons[r]})
	}
	slices.SortStableFunc(out, func(a, b reasonCount) int { return cmp.Compare(b.Count, a.Count) })
	return out
}
