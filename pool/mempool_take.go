package pool

// take removes a free number for a new hold. It prefers, in order: the head
// of the caller's processor ring when out of cooldown, any other ring's head
// out of cooldown, and, after a sweep of expired holds, the head that has
// been free longest even though it is still cooling. Each ring is ordered by
// when its numbers were freed, so looking at heads is enough: no number out
// of cooldown can hide behind a cooling head.
func (p *memPool) take(now uint64) (uint32, bool) {
	home := p.homeShard()
	swept := false
	for {
		if idx, ok := p.takeCold(home, now); ok {
			return idx, true
		}
		if !swept && p.nextExpiry.Load() <= now {
			p.sweep(now)
			swept = true
			continue
		}
		idx, found, raced := p.takeColdest()
		if found {
			p.coolingHandouts.Add(1)
			return idx, true
		}
		if !raced {
			return 0, false
		}
	}
}

func (p *memPool) cold(idx uint32, now uint64) bool {
	return numberFreedAt(p.numbers[idx].state.Load())+p.cooldown <= now
}

// takeCold pops the first ring head found out of cooldown, starting with
// the caller's own ring so processors rarely touch each other's rings.
func (p *memPool) takeCold(home int, now uint64) (uint32, bool) {
	n := len(p.shards)
	for i := range n + 1 {
		r := p.expired
		if i < n {
			s := home + i
			if s >= n {
				s -= n
			}
			r = p.shards[s]
		}
		for {
			idx, pos, ok := r.head()
			if !ok || !p.cold(idx, now) {
				break
			}
			if r.popHead(pos) {
				return idx, true
			}
		}
	}
	return 0, false
}

// takeColdest pops the head freed longest ago across all rings. raced
// reports that another goroutine took it first, so the caller should retry.
func (p *memPool) takeColdest() (idx uint32, found, raced bool) {
	var best *freeRing
	var bestPos, bestFreed uint64
	for i := range len(p.shards) + 1 {
		r := p.expired
		if i < len(p.shards) {
			r = p.shards[i]
		}
		head, pos, ok := r.head()
		if !ok {
			continue
		}
		freed := numberFreedAt(p.numbers[head].state.Load())
		if best == nil || freed < bestFreed {
			best, bestPos, bestFreed, idx = r, pos, freed, head
		}
	}
	if best == nil {
		return 0, false, false
	}
	if best.popHead(bestPos) {
		return idx, true, false
	}
	return 0, false, true
}
