package pool

import (
	"cmp"
	"slices"
)

func (p *memPool) stats(now uint64) Stats {
	st := Stats{Size: len(p.numbers)}
	for i := range p.numbers {
		ns := p.numbers[i].state.Load()
		lastEnd := numberFreedAt(ns)
		holds := 0
		if numberHolders(ns) > 0 {
			base := uint32(i) * p.perNumber
			for j := range p.perNumber {
				s := p.holds[base+j].state.Load()
				switch {
				case !holdLive(s):
				case holdUntil(s) >= now:
					holds++
				default: // expired, not yet swept
					lastEnd = max(lastEnd, holdUntil(s))
				}
			}
		}
		switch {
		case holds > 0:
			st.Leased++
			st.Holds += holds
		case lastEnd+p.cooldown > now:
			st.Cooling++
		default:
			st.Free++
		}
	}
	p.notePeak(int64(st.Holds))
	p.notePeak(int64(peakOverlap(p.history())))
	st.Reuses = p.reuses.Load()
	st.Fallbacks = p.fallbacks.Load()
	st.Originals = p.originals.Load()
	st.CoolingHandouts = p.coolingHandouts.Load()
	st.PeakConcurrency = int(p.peak.Load())
	st.Utilisation = float64(st.Leased) / float64(st.Size)
	return st
}

// peakOverlap is the largest number of holds live at one instant.
func peakOverlap(holds []HoldRecord) int {
	type edge struct {
		at    int64
		delta int
	}
	edges := make([]edge, 0, 2*len(holds))
	for _, h := range holds {
		edges = append(edges, edge{h.From.UnixMilli(), +1}, edge{h.Until.UnixMilli(), -1})
	}
	// Ends sort before starts at the same instant: a released number handed
	// straight on is not two holds at once.
	slices.SortFunc(edges, func(a, b edge) int {
		if a.at != b.at {
			return cmp.Compare(a.at, b.at)
		}
		return a.delta - b.delta
	})
	peak, cur := 0, 0
	for _, e := range edges {
		cur += e.delta
		peak = max(peak, cur)
	}
	return peak
}
