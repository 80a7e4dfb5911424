package journey

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// LabelSpam is the label that marks a call as spam, whether a call
// analyzer set it or a SpamConfig rule did.
const LabelSpam = "spam"

// SpamConfig says which calls are spam. A spam call is marked on its
// touchpoint and in reports, never qualifies, and so is never exported to
// an ad platform, whose bidding would learn from it. The zero value marks
// nothing but calls labelled LabelSpam by the host's analyzer.
type SpamConfig struct {
	// Block lists callers, E.164, whose calls are always spam.
	Block []string `json:"block,omitempty"`
	// Allow lists callers, E.164, whose calls are never spam, whatever
	// else is said of them.
	Allow []string `json:"allow,omitempty"`
	// UnattestedIsSpam marks calls whose carrier vouched for neither the
	// caller nor the number (STIR/SHAKEN attestation "C", gateway
	// traffic). Calls with no attestation at all are not marked: many
	// carriers and countries send none.
	UnattestedIsSpam bool `json:"unattested_is_spam,omitempty"`
	// ShortCalls marks a caller's calls as spam once they have made Count
	// calls shorter than Shorter within Within (robocallers hang up
	// quickly, again and again). Zero Count turns the rule off.
	ShortCalls ShortCallRule `json:"short_calls,omitzero"`
	// Labels are analyzer labels that mark a call as spam; empty means
	// LabelSpam.
	Labels []string `json:"labels,omitempty"`
}

// ShortCallRule is the repeated-short-calls rule of SpamConfig.
type ShortCallRule struct {
	Count   int           `json:"count"`
	Shorter time.Duration `json:"shorter"`
	Within  time.Duration `json:"within"`
}

// ShortCallHistory counts a caller's finished calls shorter than shorter,
// filed in [since, before): the history the short-calls rule reads.
type ShortCallHistory interface {
	ShortCallsBetween(ctx context.Context, from string, since, before time.Time, shorter time.Duration) (int, error)
}

// SpamFilter applies a SpamConfig. Numbers on its lists are compared as
// calls are stored: keyed under the identity key when there is one.
type SpamFilter struct {
	cfg          SpamConfig
	block, allow map[string]bool
	history      ShortCallHistory
}

// NewSpamFilter validates cfg, naming every problem by field. key is the
// identity key calls' numbers are keyed with ([RedactCall]), or nil;
// history is required when the short-calls rule is on.
func NewSpamFilter(cfg SpamConfig, key []byte, history ShortCallHistory) (*SpamFilter, error) {
	var errs []error
	f := &SpamFilter{cfg: cfg, block: map[string]bool{}, allow: map[string]bool{}, history: history}
	for field, list := range map[string][]string{"block": cfg.Block, "allow": cfg.Allow} {
		set := f.block
		if field == "allow" {
			set = f.allow
		}
		for i, n := range list {
			id, err := PhoneID(n, key)
			if err != nil {
				errs = append(errs, fmt.Errorf("journey: spam.%s[%d]: %q is not an E.164 number", field, i, n))
				continue
			}
			set[id.Value] = true
		}
	}
	if r := cfg.ShortCalls; r.Count != 0 {
		if r.Count < 0 {
			errs = append(errs, fmt.Errorf("journey: spam.short_calls.count: %d is negative", r.Count))
		}
		if r.Shorter <= 0 {
			errs = append(errs, errors.New("journey: spam.short_calls.shorter: must be positive when count is set"))
		}
		if r.Within <= 0 {
			errs = append(errs, errors.New("journey: spam.short_calls.within: must be positive when count is set"))
		}
		if history == nil {
			errs = append(errs, errors.New("journey: spam.short_calls: the rule reads earlier calls but no history was given"))
		}
	}
	if len(f.cfg.Labels) == 0 {
		f.cfg.Labels = []string{LabelSpam}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return f, nil
}

// Blocked reports whether the caller is on the block list: the one rule
// that can be applied while the call rings, from memory.
func (f *SpamFilter) Blocked(from string, key []byte) bool {
	if f == nil || from == "" {
		return false
	}
	id, err := PhoneID(from, key)
	return err == nil && f.block[id.Value] && !f.allow[id.Value]
}

// Check returns why the call is spam, or "" when it is not. It depends
// only on the call and the calls stored before it, so every event of the
// call derives the same verdict.
func (f *SpamFilter) Check(ctx context.Context, call provider.CallEvent) (string, error) {
	if f == nil {
		return "", nil
	}
	if f.allow[call.From] {
		return "", nil
	}
	switch {
	case f.block[call.From]:
		return "caller is on the block list", nil
	case f.cfg.UnattestedIsSpam && call.Attestation == provider.AttestationGateway:
		return "the carrier attested neither caller nor number (STIR/SHAKEN C)", nil
	}
	for _, l := range f.cfg.Labels {
		if slices.Contains(call.Labels, l) {
			return fmt.Sprintf("the call analyzer labelled it %q", l), nil
		}
	}
	r := f.cfg.ShortCalls
	if r.Count == 0 || call.From == "" {
		return "", nil
	}
	at, err := CallTime(call)
	if err != nil {
		return "", nil // not filed yet: no history to read
	}
	n, err := f.history.ShortCallsBetween(ctx, call.From, at.Add(-r.Within), at, r.Shorter)
	if err != nil {
		return "", fmt.Errorf("journey: the caller's short calls: %w", err)
	}
	if !call.EndedAt.IsZero() && CallLength(call) < r.Shorter { // finished, as the stores count earlier calls
		n++
	}
	if n >= r.Count {
		return fmt.Sprintf("%d calls shorter than %v within %v", n, r.Shorter, r.Within), nil
	}
	return "", nil
}

// CallLength is how long the caller stayed on the line: the duration the
// vendor bills, else from start to end. The short-calls rule counts by it,
// as stores do.
func CallLength(call provider.CallEvent) time.Duration {
	if call.Duration > 0 {
		return call.Duration
	}
	if !call.StartedAt.IsZero() && call.EndedAt.After(call.StartedAt) {
		return call.EndedAt.Sub(call.StartedAt)
	}
	return 0
}
