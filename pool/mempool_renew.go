package pool

import (
	"fmt"
	"time"
)

// liveHoldOf checks that tok names a live hold of session and returns it.
func (p *memPool) liveHoldOf(session string, tok Token) (idx, gen uint32, s uint64, err error) {
	idx, gen, ok := p.splitToken(tok)
	if !ok {
		return 0, 0, 0, fmt.Errorf("%w: pool %q: malformed token", ErrStaleLease, p.info.Name)
	}
	hs := p.hold(idx, gen)
	s = hs.state.Load()
	if !holdLive(s) || holdGen(s) != gen || !hs.heldBy(gen, session) {
		return 0, 0, 0, fmt.Errorf("%w: pool %q: session %q", ErrStaleLease, p.info.Name, session)
	}
	return idx, gen, s, nil
}

func (p *memPool) renew(session string, tok Token, now time.Time) (Lease, error) {
	nowc := encodeTime(now)
	idx, gen, s, err := p.liveHoldOf(session, tok)
	if err != nil {
		return Lease{}, err
	}
	hs := p.hold(idx, gen)
	for {
		if holdUntil(s) < nowc {
			p.endHold(idx, gen, s, nowc, byExpiry)
			return Lease{}, fmt.Errorf("%w: pool %q: session %q: expired", ErrStaleLease, p.info.Name, session)
		}
		until := max(nowc+p.window, holdUntil(s))
		if until == holdUntil(s) || hs.state.CompareAndSwap(s, withUntil(s, until)) {
			p.noteExpiry(until)
			return p.leaseOf(grant{tok, until, Continued}), nil
		}
		s = hs.state.Load()
		if !holdLive(s) || holdGen(s) != gen {
			return Lease{}, fmt.Errorf("%w: pool %q: session %q", ErrStaleLease, p.info.Name, session)
		}
	}
}

func (p *memPool) release(session string, tok Token, now time.Time) error {
	nowc := encodeTime(now)
	idx, gen, s, err := p.liveHoldOf(session, tok)
	if err != nil {
		return err
	}
	if holdUntil(s) < nowc {
		p.endHold(idx, gen, s, nowc, byExpiry)
		return fmt.Errorf("%w: pool %q: session %q: expired", ErrStaleLease, p.info.Name, session)
	}
	if !p.endHold(idx, gen, s, nowc, byRelease) {
		return fmt.Errorf("%w: pool %q: session %q", ErrStaleLease, p.info.Name, session)
	}
	return nil
}
