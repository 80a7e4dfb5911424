package googleads

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/store"
)

// TimeLayout is how conversion and call times are written: local time in
// the configured zone with its UTC offset, the "yyyy-MM-dd HH:mm:ss±HH:mm"
// form Google documents for conversion times. The explicit offset keeps
// times unambiguous in the hour a daylight-saving change repeats.
const TimeLayout = "2006-01-02 15:04:05-07:00"

// Column headers of Google's import templates.
var (
	// ClickHeader is the header of a click-conversion file.
	ClickHeader = []string{"Google Click ID", "Conversion Name", "Conversion Time", "Conversion Value", "Conversion Currency"}
	// ClickHeaderBraid is the header when some rows identify their click
	// by gbraid or wbraid (iOS app and web clicks) instead of a gclid.
	ClickHeaderBraid = []string{"Google Click ID", "GBRAID", "WBRAID", "Conversion Name", "Conversion Time", "Conversion Value", "Conversion Currency"}
	// CallHeader is the header of a call-conversion file.
	CallHeader = []string{"Caller's Phone Number", "Call Start Time", "Conversion Name", "Conversion Time", "Conversion Value", "Conversion Currency"}
)

// Reader is what the export reads from the store.
type Reader interface {
	ConversionsBetween(ctx context.Context, from, to time.Time) ([]journey.Conversion, error)
	Session(ctx context.Context, id string) (journey.Session, error)
	Call(ctx context.Context, providerName, callID string) (provider.CallEvent, error)
	Attribution(ctx context.Context, providerName, callID string) (journey.Attribution, error)
}

// Config configures an [Exporter]. ConversionName is required.
type Config struct {
	// ConversionName is the name of the Google Ads conversion action
	// (type "Import from clicks") the rows are counted under.
	ConversionName string
	// Names overrides ConversionName per conversion type, e.g.
	// {"purchase": "Offline sale"}.
	Names map[string]string
	// CallConversionName is the conversion action (type "Import from
	// calls") of call-conversion rows; empty means ConversionName.
	CallConversionName string
	// Location is the account's time zone, written in the file's
	// Parameters:TimeZone line and used for every time; nil means UTC.
	Location *time.Location
	// CallAssetNumbers are the tracking numbers (E.164) placed in Google
	// call assets (call extensions, call ads). Calls to them without a click
	// id become call-conversion rows, matched by Google on caller number and
	// start time.
	CallAssetNumbers []string
	// Types limits the export to these conversion types; empty means all.
	Types []string
}

// ClickConversion is one row of a click-conversion file. Exactly one of
// GCLID, GBRAID and WBRAID is set.
type ClickConversion struct {
	ConversionID string
	GCLID        string
	GBRAID       string
	WBRAID       string
	Name         string
	Time         time.Time
	Value        int64 // minor units
	Currency     string
}

// CallConversion is one row of a call-conversion file.
type CallConversion struct {
	ConversionID string
	CallerNumber string // E.164
	CallStart    time.Time
	Name         string
	Time         time.Time
	Value        int64 // minor units
	Currency     string
}

// Skipped is a conversion with a Google origin that could not be exported.
type Skipped struct {
	ConversionID string
	Reason       string
}

// Batch is the export of one period.
type Batch struct {
	From, To time.Time
	Clicks   []ClickConversion
	Calls    []CallConversion
	Skipped  []Skipped
}

// Exporter builds Google Ads offline conversion import files from the
// store.
type Exporter struct {
	r      Reader
	cfg    Config
	assets map[string]bool
	types  map[string]bool
}

// New validates cfg and returns an exporter reading from r.
func New(r Reader, cfg Config) (*Exporter, error) {
	var errs []error
	if r == nil {
		errs = append(errs, errors.New("googleads: reader is nil"))
	}
	if strings.TrimSpace(cfg.ConversionName) == "" {
		errs = append(errs, errors.New("googleads: Config.ConversionName is empty"))
	}
	assets := map[string]bool{}
	for _, n := range cfg.CallAssetNumbers {
		if !phone.IsE164(n) {
			errs = append(errs, fmt.Errorf("googleads: Config.CallAssetNumbers: %q is not an E.164 number", n))
		}
		assets[n] = true
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.CallConversionName == "" {
		cfg.CallConversionName = cfg.ConversionName
	}
	var types map[string]bool
	if len(cfg.Types) > 0 {
		types = map[string]bool{}
		for _, t := range cfg.Types {
			types[t] = true
		}
	}
	return &Exporter{r: r, cfg: cfg, assets: assets, types: types}, nil
}

// googleClick returns the Google click id of a source, if it has one.
func googleClick(src classify.Source) (classify.ClickID, bool) {
	switch src.ClickID.Param {
	case "gclid", "gbraid", "wbraid":
		return src.ClickID, src.ClickID.Value != ""
	}
	return classify.ClickID{}, false
}

// Export reads the conversions with At in [from, to) and returns the rows
// Google can match: a click-conversion row for each conversion whose
// session (or, for a call without a session, whose attribution) carried a
// gclid, gbraid or wbraid; a call-conversion row for each call conversion
// without a click id that came in on a call-asset number. Conversions with
// no Google origin are left out; those with one that cannot be sent are
// listed in Skipped.
func (x *Exporter) Export(ctx context.Context, from, to time.Time) (Batch, error) {
	b := Batch{From: from, To: to}
	convs, err := x.r.ConversionsBetween(ctx, from, to)
	if err != nil {
		return b, fmt.Errorf("googleads: conversions: %w", err)
	}
	for _, c := range convs {
		if x.types != nil && !x.types[c.Type] {
			continue
		}
		src, call, err := x.origin(ctx, c)
		if err != nil {
			return b, err
		}
		name := cmp.Or(x.cfg.Names[c.Type], x.cfg.ConversionName)
		if click, ok := googleClick(src); ok {
			row := ClickConversion{ConversionID: c.ID, Name: name, Time: c.At, Value: c.Value, Currency: c.Currency}
			switch click.Param {
			case "gclid":
				row.GCLID = click.Value
			case "gbraid":
				row.GBRAID = click.Value
			case "wbraid":
				row.WBRAID = click.Value
			}
			b.Clicks = append(b.Clicks, row)
			continue
		}
		if call == nil || !x.assets[call.To] {
			continue
		}
		start, err := journey.CallTime(*call)
		switch {
		case call.From == "":
			b.Skipped = append(b.Skipped, Skipped{c.ID, "call-asset call without a caller number (withheld)"})
		case journey.IsKeyed(call.From):
			b.Skipped = append(b.Skipped, Skipped{c.ID, "call-asset call whose caller number is kept keyed (dni.Config.IdentityKey): Google needs it in E.164"})
		case err != nil:
			b.Skipped = append(b.Skipped, Skipped{c.ID, "call-asset call without a start time"})
		default:
			b.Calls = append(b.Calls, CallConversion{ConversionID: c.ID, CallerNumber: call.From, CallStart: start,
				Name: cmp.Or(x.cfg.Names[c.Type], x.cfg.CallConversionName), Time: c.At, Value: c.Value, Currency: c.Currency})
		}
	}
	return b, nil
}

// origin finds the source of a conversion (its session's, else its call's
// attribution's) and, for a call conversion, the call.
func (x *Exporter) origin(ctx context.Context, c journey.Conversion) (classify.Source, *provider.CallEvent, error) {
	var src classify.Source
	found := false
	if c.SessionID != "" {
		s, err := x.r.Session(ctx, c.SessionID)
		switch {
		case err == nil:
			src, found = s.Source, true
		case !errors.Is(err, store.ErrNotFound):
			return src, nil, fmt.Errorf("googleads: session %q: %w", c.SessionID, err)
		}
	}
	if c.CallProvider == "" || c.CallID == "" {
		return src, nil, nil
	}
	call, err := x.r.Call(ctx, c.CallProvider, c.CallID)
	if errors.Is(err, store.ErrNotFound) {
		return src, nil, nil
	}
	if err != nil {
		return src, nil, fmt.Errorf("googleads: call %s/%s: %w", c.CallProvider, c.CallID, err)
	}
	if !found {
		a, err := x.r.Attribution(ctx, c.CallProvider, c.CallID)
		switch {
		case err == nil:
			src = a.Source
		case !errors.Is(err, store.ErrNotFound):
			return src, nil, fmt.Errorf("googleads: attribution %s/%s: %w", c.CallProvider, c.CallID, err)
		}
	}
	return src, &call, nil
}

// WriteClicks writes b's click conversions as an import file: the
// Parameters:TimeZone line, the header ([ClickHeader], or
// [ClickHeaderBraid] when a row has a gbraid or wbraid), then one row per
// conversion in time order.
func (x *Exporter) WriteClicks(w io.Writer, b Batch) error {
	cw := csv.NewWriter(w)
	braid := slices.ContainsFunc(b.Clicks, func(c ClickConversion) bool { return c.GCLID == "" })
	_ = cw.Write([]string{"Parameters:TimeZone=" + x.cfg.Location.String()})
	if braid {
		_ = cw.Write(ClickHeaderBraid)
	} else {
		_ = cw.Write(ClickHeader)
	}
	for _, c := range b.Clicks {
		tail := []string{c.Name, c.Time.In(x.cfg.Location).Format(TimeLayout), FormatValue(c.Value, c.Currency), c.Currency}
		if braid {
			_ = cw.Write(append([]string{c.GCLID, c.GBRAID, c.WBRAID}, tail...))
		} else {
			_ = cw.Write(append([]string{c.GCLID}, tail...))
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteCalls writes b's call conversions as an import file: the
// Parameters:TimeZone line, [CallHeader], then one row per conversion.
func (x *Exporter) WriteCalls(w io.Writer, b Batch) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"Parameters:TimeZone=" + x.cfg.Location.String()})
	_ = cw.Write(CallHeader)
	for _, c := range b.Calls {
		_ = cw.Write([]string{c.CallerNumber, c.CallStart.In(x.cfg.Location).Format(TimeLayout), c.Name,
			c.Time.In(x.cfg.Location).Format(TimeLayout), FormatValue(c.Value, c.Currency), c.Currency})
	}
	cw.Flush()
	return cw.Error()
}

// FormatValue writes an amount in minor units as a decimal in the
// currency's unit: 12345 USD is "123.45", 500 JPY is "500", 1234 KWD is
// "1.234" ([journey.FormatMinor]).
func FormatValue(minor int64, currency string) string { return journey.FormatMinor(minor, currency) }
