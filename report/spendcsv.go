package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/touch"
)

// spendHeader is the header of a spend file, in this order.
var spendHeader = []string{"day", "channel", "source", "medium", "campaign", "currency", "amount"}

// ReadSpendCSV reads a spend file (see the package doc): the header
// day,channel,source,medium,campaign,currency,amount, then one row per
// day and traffic source, day as YYYY-MM-DD, amount in major units with
// at most the currency's minor digits. Every problem is reported, each
// naming its line and column, and then no row is returned: a cost report
// is imported whole or not at all.
func ReadSpendCSV(r io.Reader) ([]journey.Spend, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // counted here, to name the line
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("spend csv: line 1: empty file, want the header " + strings.Join(spendHeader, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("spend csv: %w", err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // spreadsheets write a BOM
	}
	if !slices.Equal(trimAll(header), spendHeader) {
		return nil, fmt.Errorf("spend csv: line 1: header is %q, want %s", strings.Join(header, ","), strings.Join(spendHeader, ","))
	}
	type key struct {
		day                                         time.Time
		channel, source, medium, campaign, currency string
	}
	seen := map[key]int{}
	var out []journey.Spend
	var errs []error
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// A csv.ParseError names its line and column; the reader cannot
			// be trusted to resynchronise after one, so reading stops.
			errs = append(errs, fmt.Errorf("spend csv: %w", err))
			break
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(spendHeader) {
			errs = append(errs, fmt.Errorf("spend csv: line %d: %d columns, want %d", line, len(rec), len(spendHeader)))
			continue
		}
		bad := func(col int, format string, args ...any) {
			errs = append(errs, fmt.Errorf("spend csv: line %d, column %d (%s): %s", line, col+1, spendHeader[col], fmt.Sprintf(format, args...)))
		}
		f := trimAll(rec)
		var s journey.Spend
		day, err := time.Parse(time.DateOnly, f[0])
		if err != nil {
			bad(0, "%q is not a date YYYY-MM-DD", f[0])
		}
		s.Day = day
		s.Channel, s.Source, s.Medium, s.Campaign = f[1], f[2], f[3], f[4]
		if s.Channel == "" && s.Source == "" && s.Medium == "" && s.Campaign == "" {
			bad(1, "channel, source, medium and campaign are all empty")
		}
		s.Currency = f[5]
		if !touch.ValidCurrency(s.Currency) {
			bad(5, "%q is not an ISO 4217 code (three capital letters)", s.Currency)
		} else if s.Amount, err = parseMoney(f[6], s.Currency); err != nil {
			bad(6, "%v", err)
		}
		k := key{s.Day, s.Channel, s.Source, s.Medium, s.Campaign, s.Currency}
		if first, dup := seen[k]; dup {
			bad(0, "the day and source of line %d again", first)
		} else {
			seen[k] = line
		}
		out = append(out, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func trimAll(rec []string) []string {
	out := make([]string, len(rec))
	for i, f := range rec {
		out[i] = strings.TrimSpace(f)
	}
	return out
}

// WriteSpendCSV writes rows in the format [ReadSpendCSV] reads, so a
// file written and read again gives the same rows.
func WriteSpendCSV(w io.Writer, rows []journey.Spend) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(spendHeader); err != nil {
		return err
	}
	for _, s := range rows {
		rec := []string{s.Day.UTC().Format(time.DateOnly), s.Channel, s.Source, s.Medium, s.Campaign, s.Currency,
			FormatMoney(s.Amount, s.Currency)}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
