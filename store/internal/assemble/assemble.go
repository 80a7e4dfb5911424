// Package assemble builds attribution journeys from touchpoints and
// conversions already tagged with their person, so that every store reads
// one period in one pass and groups it by the same rules.
package assemble

import (
	"cmp"
	"slices"
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/journey/attribution"
)

// Touchpoint is a touchpoint with the key of the person it belongs to.
type Touchpoint struct {
	Person string
	journey.Touchpoint
}

// Conversion is a conversion with the key of the person it belongs to.
type Conversion struct {
	Person string
	journey.Conversion
}

// PersonKey names the person of a record: the person its visitor id
// resolves to, else the person of its session's visitor, else the visitor
// itself (a visitor never linked to anything is a person of its own).
func PersonKey(visitorPerson, sessionPerson, visitor, sessionVisitor string) string {
	switch {
	case visitorPerson != "":
		return visitorPerson
	case sessionPerson != "":
		return sessionPerson
	case visitor != "":
		return "visitor:" + visitor
	case sessionVisitor != "":
		return "visitor:" + sessionVisitor
	}
	return ""
}

// TouchWindow is the range of touchpoint times JourneysBetween must read.
func TouchWindow(from, to time.Time, lookback time.Duration) (time.Time, time.Time) {
	if lookback < 0 {
		return time.Unix(0, 0).UTC(), to
	}
	return from.Add(-lookback), to
}

// Journeys groups tps (read over TouchWindow) and convs (those of [from,
// to)) into journeys as [store.Journeys.JourneysBetween] documents.
func Journeys(tps []Touchpoint, convs []Conversion, from, to time.Time, lookback time.Duration) []attribution.Journey {
	byPerson := map[string][]journey.Touchpoint{}
	for _, t := range tps {
		if t.Person != "" {
			byPerson[t.Person] = append(byPerson[t.Person], t.Touchpoint)
		}
	}
	for _, list := range byPerson {
		slices.SortFunc(list, func(a, b journey.Touchpoint) int {
			return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID))
		})
	}
	slices.SortFunc(convs, func(a, b Conversion) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID))
	})
	out := make([]attribution.Journey, 0, len(convs))
	lastConversion := map[string]time.Time{}
	for _, c := range convs {
		list := byPerson[c.Person]
		start := 0
		if lookback >= 0 {
			start = firstAtOrAfter(list, c.At.Add(-lookback))
		}
		end := firstAfter(list, c.At)
		conv := c.Conversion
		out = append(out, attribution.Journey{ID: c.ID, Touchpoints: slices.Clone(list[start:end]), Conversion: &conv})
		if c.Person != "" {
			lastConversion[c.Person] = c.At
		}
	}
	var open []attribution.Journey
	for person, list := range byPerson {
		start := firstAtOrAfter(list, from)
		if last, ok := lastConversion[person]; ok {
			start = max(start, firstAfter(list, last))
		}
		end := firstAtOrAfter(list, to)
		if start < end {
			open = append(open, attribution.Journey{ID: "open:" + person, Touchpoints: slices.Clone(list[start:end])})
		}
	}
	slices.SortFunc(open, func(a, b attribution.Journey) int { return cmp.Compare(a.ID, b.ID) })
	return append(out, open...)
}

// firstAtOrAfter is the index of the first touchpoint at or after t.
func firstAtOrAfter(list []journey.Touchpoint, t time.Time) int {
	i, _ := slices.BinarySearchFunc(list, t, func(tp journey.Touchpoint, t time.Time) int {
		if tp.At.Before(t) {
			return -1
		}
		return 1
	})
	return i
}

// firstAfter is the index of the first touchpoint after t.
func firstAfter(list []journey.Touchpoint, t time.Time) int {
	i, _ := slices.BinarySearchFunc(list, t, func(tp journey.Touchpoint, t time.Time) int {
		if tp.At.After(t) {
			return 1
		}
		return -1
	})
	return i
}
