package pool

import "sync/atomic"

// publish makes a started hold findable by its session. If another Lease of
// the same session published concurrently, one of them (at least) sees the
// other, undoes its own hold and reports done=false so the caller retries
// and finds the survivor.
func (p *memPool) publish(h uint64, session string, tok Token, until uint64, o Outcome, now uint64) (grant, bool) {
	idx, gen, _ := p.splitToken(tok)
	word, ok := p.insert(h, tok)
	if !ok { // table full: only possible with extreme sharing
		p.endHold(idx, gen, p.hold(idx, gen).state.Load(), now, byRelease)
		return p.unserved(), true
	}
	if _, _, dup := p.findLive(h, session, word); dup {
		p.endHold(idx, gen, p.hold(idx, gen).state.Load(), now, byRelease)
		return grant{}, false
	}
	if p.onRecord != nil {
		p.emit(idx, gen, 0)
	}
	return grant{tok, until, o}, true
}

// findLive finds the live hold of session, skipping the entry word skip.
func (p *memPool) findLive(h uint64, session string, skip *atomic.Uint64) (Token, uint64, bool) {
	t := p.table
	tag := entryTag(h)
	b := h & t.bucketMask
	for range t.bucketMask + 1 {
		bk := t.bucket(b)
		for j := range entriesPerBucket {
			w := &bk[j]
			e := w.Load()
			if e>>tagShift != tag || w == skip {
				continue
			}
			tok := Token(e & tokenMask)
			idx, gen, ok := p.splitToken(tok)
			if !ok {
				continue
			}
			hs := p.hold(idx, gen)
			s := hs.state.Load()
			if holdLive(s) && holdGen(s) == gen && hs.heldBy(gen, session) {
				return tok, s, true
			}
		}
		if !t.overflowed(b) {
			break
		}
		b = (b + 1) & t.bucketMask
	}
	return 0, 0, false
}

// insert stores tok in the first entry of the session's probe sequence that
// is empty or points at an ended hold.
func (p *memPool) insert(h uint64, tok Token) (*atomic.Uint64, bool) {
	t := p.table
	entry := makeEntry(h, tok)
	b := h & t.bucketMask
	for range t.bucketMask + 1 {
		bk := t.bucket(b)
		for j := range entriesPerBucket {
			w := &bk[j]
			e := w.Load()
			if (e == 0 || !p.entryLive(e)) && w.CompareAndSwap(e, entry) {
				return w, true
			}
		}
		t.markOverflow(b)
		b = (b + 1) & t.bucketMask
	}
	return nil, false
}

func (p *memPool) entryLive(e uint64) bool {
	idx, gen, ok := p.splitToken(Token(e & tokenMask))
	if !ok {
		return false
	}
	s := p.hold(idx, gen).state.Load()
	return holdLive(s) && holdGen(s) == gen
}
