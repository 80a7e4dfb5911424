package pool

// exhausted applies the pool's exhaustion policy when no number is free.
// done=false asks the caller to retry (the session got a lease meanwhile).
func (p *memPool) exhausted(h uint64, session string, now uint64) (grant, bool) {
	p.notePeak(int64(len(p.numbers)))
	if p.info.Exhaustion == ReuseLeastRecent {
		if g, done, ok := p.reuse(h, session, now); ok {
			if done {
				p.reuses.Add(1)
			}
			return g, done
		}
	}
	return p.unserved(), true
}

// unserved is what a visitor gets when no tracking number can be given:
// the fallback number if the pool has one and the policy allows, else the
// business number.
func (p *memPool) unserved() grant {
	if p.info.Fallback != "" && p.info.Exhaustion != ServeOriginal {
		p.fallbacks.Add(1)
		return grant{o: Fallback}
	}
	p.originals.Add(1)
	return grant{o: Original}
}

// reuse shares the held number whose holders were least recently active.
// ok=false means no number can take one more holder.
func (p *memPool) reuse(h uint64, session string, now uint64) (g grant, done, ok bool) {
	for range 8 {
		idx, st, found := p.leastRecentlyActive()
		if !found {
			return grant{}, false, false
		}
		gen := (numberGen(st) + 1) & genMask
		slot := &p.numbers[idx]
		if !slot.state.CompareAndSwap(st, packNumber(numberFreedAt(st), numberHolders(st)+1, gen)) {
			continue
		}
		until := now + p.window
		p.hold(idx, gen).write(session, gen, now, until, true)
		p.noteExpiry(until)
		g, done := p.publish(h, session, makeToken(idx, gen), until, Reused, now)
		return g, done, true
	}
	return grant{}, false, false
}

// leastRecentlyActive scans the pool for the held number whose latest
// activity (the latest expiry among its live holds) is oldest and that has a
// hold slot to spare. O(numbers × HistoryPerNumber): the exhausted path only.
func (p *memPool) leastRecentlyActive() (idx uint32, st uint64, found bool) {
	var bestActivity uint64
	for i := range p.numbers {
		s := p.numbers[i].state.Load()
		holders := numberHolders(s)
		if holders == 0 || holders >= p.perNumber-1 || holders == holdersMask {
			continue
		}
		next := p.hold(uint32(i), numberGen(s)+1)
		if holdLive(next.state.Load()) {
			continue
		}
		var activity uint64
		base := uint32(i) * p.perNumber
		for j := range p.perNumber {
			hs := p.holds[base+j].state.Load()
			if holdLive(hs) {
				activity = max(activity, holdUntil(hs))
			}
		}
		if !found || activity < bestActivity {
			idx, st, bestActivity, found = uint32(i), s, activity, true
		}
	}
	return idx, st, found
}

func (p *memPool) notePeak(n int64) {
	for {
		cur := p.peak.Load()
		if n <= cur || p.peak.CompareAndSwap(cur, n) {
			return
		}
	}
}
