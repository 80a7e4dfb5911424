package attribution

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/attriqs/calltrack/classify"
	"github.com/attriqs/calltrack/journey/touch"
)

// Journey is one person's touchpoints, in any order, and the conversion
// they led to; Conversion is nil when the journey did not convert.
type Journey struct {
	ID          string
	Touchpoints []touch.Touchpoint
	Conversion  *touch.Conversion
}

// KeyFunc names the group a touchpoint's credit is reported under.
type KeyFunc func(touch.Touchpoint) string

// ByChannel groups by the default channel group ("Paid Search", "Direct").
func ByChannel(t touch.Touchpoint) string { return string(t.Source.Channel) }

// BySourceMedium groups by "source / medium", as GA4's report of that name.
func BySourceMedium(t touch.Touchpoint) string {
	return t.Source.Source + " / " + t.Source.Medium
}

// ByCampaign groups by the tagged campaign.
func ByCampaign(t touch.Touchpoint) string { return t.Source.Campaign }

// UnknownKey is the group of touchpoints whose key is empty.
const UnknownKey = "(unknown)"

// DefaultLookback is the window before a conversion whose touchpoints count.
const DefaultLookback = 90 * 24 * time.Hour

// DefaultKinds returns the touchpoint kinds counted by default: session,
// call, chat and form.
func DefaultKinds() []touch.TouchKind {
	return []touch.TouchKind{touch.TouchSession, touch.TouchCall, touch.TouchChat, touch.TouchForm}
}

// Options are the report-wide settings every model shares. The zero value
// means the documented defaults.
type Options struct {
	// Lookback is how far before the conversion a touchpoint may be and
	// still count; zero means DefaultLookback, negative means no limit. For
	// a journey without a conversion it is measured back from its last
	// counted touchpoint.
	Lookback time.Duration
	// Kinds are the touchpoint kinds that count; nil means DefaultKinds.
	Kinds []touch.TouchKind
	// Key names each touchpoint's group; nil means ByChannel.
	Key KeyFunc
	// Currency is the currency of the report. Empty means "whatever the
	// converting journeys share"; conversions in any other currency are
	// rejected with ErrCurrency (use SplitByCurrency for one report per
	// currency).
	Currency string
}

// Errors returned by the models; each is wrapped with the journey or
// option it concerns.
var (
	ErrNoJourneys       = errors.New("attribution: no journeys")
	ErrEmptyJourney     = errors.New("attribution: journey has no touchpoints")
	ErrInvalidValue     = errors.New("attribution: conversion value must not be negative")
	ErrInvalidJourney   = errors.New("attribution: invalid journey")
	ErrCurrency         = errors.New("attribution: conversion in another currency")
	ErrNoConversions    = errors.New("attribution: no conversions to attribute")
	ErrTooManyChannels  = errors.New("attribution: too many channels")
	ErrInvalidOptions   = errors.New("attribution: invalid options")
	ErrNotConverged     = errors.New("attribution: absorbing-chain solve did not converge")
	ErrInvalidPathInput = errors.New("attribution: invalid path data")
)

// SplitByCurrency groups journeys by their conversion's currency, so that
// a host with several currencies can run one report per currency.
// Journeys without a conversion go to every currency's group, because the
// data-driven models learn from them too.
func SplitByCurrency(journeys []Journey) map[string][]Journey {
	out := map[string][]Journey{}
	var open []Journey
	for _, j := range journeys {
		if j.Conversion == nil {
			open = append(open, j)
			continue
		}
		out[j.Conversion.Currency] = append(out[j.Conversion.Currency], j)
	}
	for c := range out {
		out[c] = append(out[c], open...)
	}
	return out
}

// counted is one counted touchpoint of a prepared journey.
type counted struct {
	index int // position in Journey.Touchpoints
	key   string
	tp    *touch.Touchpoint
}

// prepared is a journey after filtering, ordering and keying.
type prepared struct {
	j       *Journey
	touches []counted // counted touchpoints, oldest first
}

func (p *prepared) converted() bool { return p.j.Conversion != nil }

// preparedSet is the validated input of one report.
type preparedSet struct {
	journeys     []prepared
	currency     string
	unattributed Unattributed
}

// prepare validates journeys and options, then keeps each journey's
// counted touchpoints in time order (input order among equal times).
func prepare(journeys []Journey, opts Options) (*preparedSet, error) {
	if len(journeys) == 0 {
		return nil, ErrNoJourneys
	}
	lookback := opts.Lookback
	if lookback == 0 {
		lookback = DefaultLookback
	}
	kinds := opts.Kinds
	if kinds == nil {
		kinds = DefaultKinds()
	}
	key := opts.Key
	if key == nil {
		key = ByChannel
	}
	set := &preparedSet{journeys: make([]prepared, 0, len(journeys)), currency: opts.Currency}
	for i := range journeys {
		j := &journeys[i]
		if err := validateJourney(j, set); err != nil {
			return nil, err
		}
		p := prepared{j: j}
		for k := range j.Touchpoints {
			tp := &j.Touchpoints[k]
			if !slices.Contains(kinds, tp.Kind) {
				continue
			}
			if j.Conversion != nil && tp.At.After(j.Conversion.At) {
				continue // after the conversion: it cannot have caused it
			}
			name := key(*tp)
			if name == "" {
				name = UnknownKey
			}
			p.touches = append(p.touches, counted{index: k, key: name, tp: tp})
		}
		slices.SortStableFunc(p.touches, func(a, b counted) int { return a.tp.At.Compare(b.tp.At) })
		if lookback > 0 && len(p.touches) > 0 {
			end := p.touches[len(p.touches)-1].tp.At
			if j.Conversion != nil {
				end = j.Conversion.At
			}
			from := end.Add(-lookback)
			cut := 0
			for cut < len(p.touches) && p.touches[cut].tp.At.Before(from) {
				cut++
			}
			p.touches = p.touches[cut:]
		}
		if len(p.touches) == 0 {
			if j.Conversion != nil {
				set.unattributed.Conversions++
				set.unattributed.Value += j.Conversion.Value
			}
			continue
		}
		set.journeys = append(set.journeys, p)
	}
	return set, nil
}

func validateJourney(j *Journey, set *preparedSet) error {
	if len(j.Touchpoints) == 0 && j.Conversion == nil {
		return fmt.Errorf("%w: journey %q", ErrEmptyJourney, j.ID)
	}
	for k, tp := range j.Touchpoints {
		if tp.At.IsZero() {
			return fmt.Errorf("%w: journey %q: touchpoint %d has no time", ErrInvalidJourney, j.ID, k)
		}
	}
	c := j.Conversion
	if c == nil {
		return nil
	}
	if c.Value < 0 {
		return fmt.Errorf("%w: journey %q: value %d", ErrInvalidValue, j.ID, c.Value)
	}
	if c.At.IsZero() {
		return fmt.Errorf("%w: journey %q: conversion has no time", ErrInvalidJourney, j.ID)
	}
	if set.currency == "" {
		set.currency = c.Currency
	} else if c.Currency != set.currency {
		return fmt.Errorf("%w: journey %q is in %q, the report is in %q", ErrCurrency, j.ID, c.Currency, set.currency)
	}
	return nil
}

// isDirect reports whether a touchpoint came with no source at all.
func isDirect(t *touch.Touchpoint) bool { return t.Source.Channel == classify.ChannelDirect }
