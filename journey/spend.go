package journey

import (
	"errors"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/journey/touch"
)

// Spend is what was spent on one traffic source on one day: a row of an ad
// platform's cost report. Channel, Source, Medium and Campaign use the
// names classification gives ([classify.Source]), so spend meets the calls
// of the same source in reports; any of them may be empty when the
// platform reports spend at a coarser grain (a channel's total, say).
type Spend struct {
	Day      time.Time `json:"day"` // UTC midnight of the day
	Channel  string    `json:"channel"`
	Source   string    `json:"source,omitempty"`
	Medium   string    `json:"medium,omitempty"`
	Campaign string    `json:"campaign,omitempty"`
	Currency string    `json:"currency"` // ISO 4217, e.g. "USD"
	Amount   int64     `json:"amount"`   // minor units of Currency
}

// Validate reports every missing or invalid field, each named.
func (s Spend) Validate() error {
	var errs []error
	if s.Day.IsZero() {
		errs = append(errs, errors.New("spend: day is zero"))
	} else if d := s.Day.UTC(); d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0 || d.Nanosecond() != 0 {
		errs = append(errs, fmt.Errorf("spend: day %s is not a UTC midnight", s.Day.Format(time.RFC3339Nano)))
	}
	if s.Channel == "" && s.Source == "" && s.Medium == "" && s.Campaign == "" {
		errs = append(errs, errors.New("spend: channel, source, medium and campaign are all empty"))
	}
	if !touch.ValidCurrency(s.Currency) {
		errs = append(errs, fmt.Errorf("spend: currency %q is not a three-letter ISO 4217 code", s.Currency))
	}
	if s.Amount < 0 {
		errs = append(errs, fmt.Errorf("spend: amount %d is negative", s.Amount))
	}
	return errors.Join(errs...)
}
