package autoscale

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
)

var (
	// ErrInvalidConfig wraps every problem [New] finds in a [Config].
	ErrInvalidConfig = errors.New("autoscale: invalid config")
	// ErrVendor wraps a failure of the Provisioner (search, buy, list or
	// release); the pool is left consistent and the next Apply retries.
	ErrVendor = errors.New("autoscale: vendor call failed")
	// ErrPool wraps a failure of the Resizer (add, drain, remove).
	ErrPool = errors.New("autoscale: pool change failed")
	// ErrShortSupply: the vendor's search offered fewer numbers than the
	// plan needed; those found were bought.
	ErrShortSupply = errors.New("autoscale: too few numbers offered")
	// ErrOrphan: a number was bought but could be neither added to the pool
	// nor released again. The error and the [Change] log name it and its
	// vendor id; it costs money until someone releases it.
	ErrOrphan = errors.New("autoscale: bought number neither added nor released")
)

// Config configures a [Scaler]. The zero value of each optional field means
// its documented default.
type Config struct {
	// Pool names the pool to scale. Required.
	Pool string
	// Provisioner buys and releases the pool's numbers. Required.
	Provisioner provider.Provisioner
	// Resizer changes the pool's membership, usually the allocator itself
	// (a [pool.Elastic]). Required.
	Resizer pool.Resizer
	// BuyOptions set each bought number's webhooks and fail-safe; VoiceURL
	// and FallbackTo are required, so no number joins without a webhook or
	// a carrier-side forward to the business line.
	BuyOptions provider.BuyOptions
	// Query narrows the search for numbers to buy (country, area code).
	Query provider.NumberQuery
	// DryRun makes Apply log and return exactly the changes a real run
	// would make on the same state, marked dry, without making them: it
	// reads the pool's drains and the vendor's offer and list as a real
	// run does, and buys, releases, adds, drains and removes nothing (see
	// [Scaler.Apply]).
	DryRun bool
	// Logger receives one Info record per change; nil means slog.Default().
	Logger *slog.Logger
	// Clock gives the instants drains are judged at; nil means time.Now.
	// Give it the clock the allocator is driven with.
	Clock func() time.Time
	// MaxStep bounds how many numbers one Apply buys and how many it starts
	// draining; zero means 10.
	MaxStep int
	// MinSize is the smallest pool a plan shrinks to; zero means 1.
	MinSize int
	// MaxSize, when positive, is the largest pool a plan grows to.
	MaxSize int
}

// DefaultMaxStep is the MaxStep used when Config.MaxStep is zero.
const DefaultMaxStep = 10

// Scaler applies an [pool.AuditReport]'s recommended size to one pool. Its
// methods are safe for concurrent use; Apply calls run one at a time.
type Scaler struct {
	cfg Config
	log *slog.Logger
	mu  sync.Mutex // one Apply at a time, so two never buy for one shortfall
}

// New validates cfg and returns a Scaler; the error joins every problem,
// each naming its field, and wraps [ErrInvalidConfig].
func New(cfg Config) (*Scaler, error) {
	var errs []error
	bad := func(field, why string) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, why))
	}
	if cfg.Pool == "" {
		bad("pool", "required")
	}
	if cfg.Provisioner == nil {
		bad("provisioner", "required")
	}
	if cfg.Resizer == nil {
		bad("resizer", "required")
	}
	if cfg.BuyOptions.VoiceURL == "" {
		bad("buy_options.voice_url", "required: a number without a webhook cannot track calls")
	}
	if cfg.BuyOptions.FallbackTo == "" {
		bad("buy_options.fallback_to", "required: a number without a fail-safe drops calls when the host is down")
	} else if _, err := pool.ParseNumber(cfg.BuyOptions.FallbackTo); err != nil {
		bad("buy_options.fallback_to", err.Error())
	}
	if cfg.MaxStep < 0 {
		bad("max_step", fmt.Sprintf("%d: must not be negative", cfg.MaxStep))
	}
	if cfg.MinSize < 0 {
		bad("min_size", fmt.Sprintf("%d: must not be negative", cfg.MinSize))
	}
	if cfg.MaxSize < 0 || (cfg.MaxSize > 0 && cfg.MaxSize < max(cfg.MinSize, 1)) {
		bad("max_size", fmt.Sprintf("%d: must be zero or at least min_size", cfg.MaxSize))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.MaxStep == 0 {
		cfg.MaxStep = DefaultMaxStep
	}
	if cfg.MinSize == 0 {
		cfg.MinSize = 1
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Scaler{cfg: cfg, log: log}, nil
}

// Plan is what one Apply will do.
type Plan struct {
	Pool string
	// Current is how many numbers the pool leases now; Target is the size
	// the audit recommends, within MinSize and MaxSize.
	Current, Target int
	// Buy is how many numbers to add, at most MaxStep.
	Buy int
	// Drain lists the numbers to start draining, least used first, at
	// most MaxStep.
	Drain []string
	// Reason says why the plan changes nothing, when it does not.
	Reason string
}

// Plan decides how to move the pool from current (its leasable numbers)
// towards report.Recommended.Numbers. holds are the records the audit read
// (a store's HoldsBetween, [pool.Elastic.Holds]); they rank numbers for
// draining, least held time first, then fewest holds, then the latest to
// join current. Plan is pure: it reads nothing else and changes nothing. A
// report with no holds leaves the pool as it is: no traffic seen is no
// evidence the numbers are idle rather than the history missing.
func (s *Scaler) Plan(report pool.AuditReport, current []string, holds []pool.HoldRecord) Plan {
	p := Plan{Pool: s.cfg.Pool, Current: len(current), Target: len(current)}
	if report.Holds == 0 {
		p.Reason = "the audit saw no holds"
		return p
	}
	p.Target = max(report.Recommended.Numbers, s.cfg.MinSize)
	if s.cfg.MaxSize > 0 {
		p.Target = min(p.Target, s.cfg.MaxSize)
	}
	switch {
	case p.Target > p.Current:
		p.Buy = min(p.Target-p.Current, s.cfg.MaxStep)
	case p.Target < p.Current:
		p.Drain = leastUsed(current, holds, min(p.Current-p.Target, s.cfg.MaxStep))
	default:
		p.Reason = "the pool is at its recommended size"
	}
	return p
}

// leastUsed returns the n numbers of current with the least held time.
func leastUsed(current []string, holds []pool.HoldRecord, n int) []string {
	type use struct {
		number string
		pos    int
		held   time.Duration
		holds  int
	}
	uses := make([]use, len(current))
	at := make(map[string]int, len(current))
	for i, num := range current {
		uses[i] = use{number: num, pos: i}
		at[num] = i
	}
	for _, h := range holds {
		i, ok := at[h.Number]
		if !ok {
			continue
		}
		uses[i].holds++
		if !h.Until.IsZero() && h.Until.After(h.From) {
			uses[i].held += h.Until.Sub(h.From)
		}
	}
	slices.SortFunc(uses, func(a, b use) int {
		return cmp.Or(cmp.Compare(a.held, b.held), cmp.Compare(a.holds, b.holds), cmp.Compare(b.pos, a.pos))
	})
	out := make([]string, 0, n)
	for _, u := range uses[:n] {
		out = append(out, u.number)
	}
	return out
}
