package pool

import "time"

// Catalog is a validated, normalised [Config]: every number in canonical
// E.164 form and every default applied. It is immutable and safe for
// concurrent use.
type Catalog struct {
	pools            map[string]*PoolInfo
	order            []string
	numbers          map[string]NumberInfo
	dedicated        map[string]DedicatedNumber
	historyPerNumber int
}

// PoolInfo is one pool after validation, defaults applied.
type PoolInfo struct {
	Name           string
	Numbers        []string
	BusinessNumber string
	Fallback       string
	SessionWindow  time.Duration
	Cooldown       time.Duration
	Exhaustion     ExhaustionPolicy
}

// NumberInfo tells which pool a leasable or fallback number belongs to.
type NumberInfo struct {
	Number   string
	Pool     string
	Index    int  // position in PoolInfo.Numbers; -1 for the fallback number
	Fallback bool // the pool's fallback number, never leased to one session
}

// NewCatalog validates cfg and returns its normalised form, or every problem
// found joined with errors.Join (see [Config.Validate]).
func NewCatalog(cfg Config) (*Catalog, error) { return compile(cfg) }

// Pool returns the pool called name.
func (c *Catalog) Pool(name string) (*PoolInfo, bool) {
	p, ok := c.pools[name]
	return p, ok
}

// PoolNames lists the pools in configuration order.
func (c *Catalog) PoolNames() []string { return append([]string(nil), c.order...) }

// Number finds the pool a tracking or fallback number belongs to. The number
// may be in any spelling [ParseNumber] accepts.
func (c *Catalog) Number(number string) (NumberInfo, bool) {
	if info, ok := c.numbers[number]; ok {
		return info, true
	}
	canonical, reason := checkNumber(number)
	if reason != "" {
		return NumberInfo{}, false
	}
	info, ok := c.numbers[canonical]
	return info, ok
}

// Dedicated returns the campaign a dedicated number is fixed to.
func (c *Catalog) Dedicated(number string) (DedicatedNumber, bool) {
	if d, ok := c.dedicated[number]; ok {
		return d, true
	}
	if _, ok := c.numbers[number]; ok {
		return DedicatedNumber{}, false // a pool's number, already canonical: skip the parse
	}
	canonical, reason := checkNumber(number)
	if reason != "" {
		return DedicatedNumber{}, false
	}
	d, ok := c.dedicated[canonical]
	return d, ok
}

// HistoryPerNumber is the normalised [Config.HistoryPerNumber].
func (c *Catalog) HistoryPerNumber() int { return c.historyPerNumber }
