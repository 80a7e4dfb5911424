package pool

import "math"

// sweep ends every hold expired at now and returns how many it ended. It
// also refreshes the nextExpiry hint and the peak of live holds.
func (p *memPool) sweep(now uint64) int {
	hint := p.nextExpiry.Load()
	earliest := uint64(math.MaxUint64)
	ended, live := 0, 0
	for i := range p.numbers {
		if numberHolders(p.numbers[i].state.Load()) == 0 {
			continue
		}
		base := uint32(i) * p.perNumber
		for j := range p.perNumber {
			s := p.holds[base+j].state.Load()
			if !holdLive(s) {
				continue
			}
			if until := holdUntil(s); until < now {
				if p.endHold(uint32(i), holdGen(s), s, now, byExpiry) {
					ended++
				}
			} else {
				earliest = min(earliest, until)
				live++
			}
		}
	}
	// A hold started during the scan may be missing from earliest; leases
	// that start now expire no sooner than now+window, so cap the hint.
	p.nextExpiry.CompareAndSwap(hint, min(earliest, now+p.window/2))
	p.notePeak(int64(live))
	return ended
}
