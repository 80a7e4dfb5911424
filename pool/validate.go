package pool

import (
	"errors"
	"fmt"
)

// ConfigError names one configuration problem: the field path, the offending
// value and what is wrong with it. It unwraps to [ErrInvalidConfig] and, for
// a bad phone number, also to [ErrInvalidNumber].
type ConfigError struct {
	Field  string // e.g. `pool "paid-search": numbers[3]`
	Value  string
	Reason string
	number bool
}

func (e *ConfigError) Error() string {
	if e.Value == "" {
		return e.Field + ": " + e.Reason
	}
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Reason)
}

// Unwrap lets errors.Is match ErrInvalidConfig and, for numbers, ErrInvalidNumber.
func (e *ConfigError) Unwrap() []error {
	if e.number {
		return []error{ErrInvalidConfig, ErrInvalidNumber}
	}
	return []error{ErrInvalidConfig}
}

// Validate reports every problem of the configuration at once, joined with
// [errors.Join]; each is a [*ConfigError] naming the field and entry.
func (c Config) Validate() error {
	_, err := compile(c)
	return err
}

type compiler struct {
	problems []error
	owner    map[string]string // canonical number -> field that claimed it
}

func (cc *compiler) fail(field, value, reason string) {
	cc.problems = append(cc.problems, &ConfigError{Field: field, Value: value, Reason: reason})
}

// number validates one number field and returns its canonical form.
func (cc *compiler) number(field, raw string, exclusive bool) string {
	if raw == "" {
		cc.fail(field, "", "is required")
		return ""
	}
	canonical, reason := checkNumber(raw)
	if reason != "" {
		cc.problems = append(cc.problems, &ConfigError{Field: field, Value: raw, Reason: reason, number: true})
		return ""
	}
	if exclusive {
		if prev, taken := cc.owner[canonical]; taken {
			cc.fail(field, raw, "already used by "+prev)
			return ""
		}
		cc.owner[canonical] = field
	}
	return canonical
}

func compile(c Config) (*Catalog, error) {
	cc := &compiler{owner: map[string]string{}}
	cat := &Catalog{
		pools:     map[string]*PoolInfo{},
		numbers:   map[string]NumberInfo{},
		dedicated: map[string]DedicatedNumber{},
	}
	if c.HistoryPerNumber < 0 {
		cc.fail("history_per_number", fmt.Sprint(c.HistoryPerNumber), "must not be negative")
	}
	for i, pc := range c.Pools {
		field := fmt.Sprintf("pools[%d]", i)
		if pc.Name != "" {
			field = fmt.Sprintf("pool %q", pc.Name)
		}
		if pc.Name == "" {
			cc.fail(field+": name", "", "is required")
		} else if _, dup := cat.pools[pc.Name]; dup {
			cc.fail(field+": name", pc.Name, "is defined twice")
		}
		info := &PoolInfo{
			Name:          pc.Name,
			SessionWindow: pc.sessionWindow(),
			Cooldown:      pc.cooldown(),
			Exhaustion:    pc.Exhaustion,
		}
		if len(pc.Numbers) == 0 {
			cc.fail(field+": numbers", "", "at least one number is required")
		}
		if len(pc.Numbers) > maxNumbersPerPool {
			cc.fail(field+": numbers", fmt.Sprint(len(pc.Numbers)), fmt.Sprintf("more than %d numbers", maxNumbersPerPool))
		}
		for j, raw := range pc.Numbers {
			if n := cc.number(fmt.Sprintf("%s: numbers[%d]", field, j), raw, true); n != "" {
				info.Numbers = append(info.Numbers, n)
			}
		}
		info.BusinessNumber = cc.number(field+": business_number", pc.BusinessNumber, false)
		if pc.Fallback != "" {
			info.Fallback = cc.number(field+": fallback", pc.Fallback, true)
		}
		if pc.SessionWindow < 0 {
			cc.fail(field+": session_window", pc.SessionWindow.String(), "must not be negative")
		}
		if pc.Cooldown < 0 {
			cc.fail(field+": cooldown", pc.Cooldown.String(), "must not be negative")
		}
		switch pc.Exhaustion {
		case ReuseLeastRecent, ServeOriginal:
		case ServeFallback:
			if pc.Fallback == "" {
				cc.fail(field+": fallback", "", "is required by the serve-fallback exhaustion policy")
			}
		default:
			cc.fail(field+": exhaustion", fmt.Sprint(int(pc.Exhaustion)), "unknown exhaustion policy")
		}
		if pc.Name != "" {
			cat.pools[pc.Name] = info
			cat.order = append(cat.order, pc.Name)
		}
	}
	for i, d := range c.Dedicated {
		field := fmt.Sprintf("dedicated[%d]", i)
		n := cc.number(field+": number", d.Number, true)
		b := cc.number(field+": business_number", d.BusinessNumber, false)
		if d.Campaign == "" && d.Source == "" {
			cc.fail(field, d.Number, "needs a campaign or a source to attribute calls to")
		}
		if n != "" {
			d.Number, d.BusinessNumber = n, b
			cat.dedicated[n] = d
		}
	}
	if len(cc.problems) > 0 {
		return nil, errors.Join(cc.problems...)
	}
	for _, name := range cat.order {
		info := cat.pools[name]
		for i, n := range info.Numbers {
			cat.numbers[n] = NumberInfo{Number: n, Pool: name, Index: i}
		}
		if info.Fallback != "" {
			cat.numbers[info.Fallback] = NumberInfo{Number: info.Fallback, Pool: name, Index: -1, Fallback: true}
		}
	}
	cat.historyPerNumber = c.historyPerNumber()
	return cat, nil
}

// maxNumbersPerPool bounds a pool so a number index fits a lease token.
const maxNumbersPerPool = 1 << 22
