package pool

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkParts times the pieces one lease + release is made of, each on
// a fresh pool of 1,000 numbers with 1,024 sessions in rotation (the
// setting of BenchmarkLeaseRelease), so that a whole operation can be read
// against the sum of its parts:
//
//	go test ./pool -run '^$' -bench Parts -cpu 1
func BenchmarkParts(b *testing.B) {
	numbers := make([]string, 1000)
	for i := range numbers {
		numbers[i] = fmt.Sprintf("+1212555%04d", i)
	}
	ids := make([]string, 1024)
	for i := range ids {
		ids[i] = fmt.Sprintf("5f0c6a7e-3b1d-4c1e-9a51-%012d", i)
	}
	// part runs fn on its own pool; its clock, one minute per operation,
	// carries on across the runs the benchmark makes with growing b.N.
	part := func(name string, fn func(b *testing.B, p *memPool, now *time.Time)) {
		m, err := New(Config{Pools: []PoolConfig{{Name: "paid", Numbers: numbers, BusinessNumber: "+12125550100", Cooldown: time.Minute}}})
		if err != nil {
			b.Fatal(err)
		}
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		b.Run(name, func(b *testing.B) { fn(b, m.pools[0], &now) })
	}

	part("free-list-take-and-return", func(b *testing.B, p *memPool, now *time.Time) {
		for range b.N {
			*now = now.Add(time.Minute)
			idx, ok := p.take(encodeTime(*now))
			if !ok {
				b.Fatal("no free number")
			}
			p.free(idx, false)
		}
	})
	part("session-hash", func(b *testing.B, p *memPool, _ *time.Time) {
		var sum uint64
		for i := range b.N {
			sum += p.table.hash(ids[i&1023])
		}
		_ = sum
	})
	part("session-lookup-miss", func(b *testing.B, p *memPool, _ *time.Time) {
		for i := range b.N {
			id := ids[i&1023]
			if _, _, live := p.findLive(p.table.hash(id), id, nil); live {
				b.Fatal("no session is live")
			}
		}
	})
	part("hold-start-and-end", func(b *testing.B, p *memPool, now *time.Time) {
		for i := range b.N {
			*now = now.Add(time.Minute)
			nowc := encodeTime(*now)
			idx, _ := p.take(nowc)
			tok, _ := p.startHold(idx, ids[i&1023], nowc)
			_, gen, _ := p.splitToken(tok)
			p.endHold(idx, gen, p.hold(idx, gen).state.Load(), nowc, byRelease)
		}
	})
	part("whole-lease-and-release", func(b *testing.B, p *memPool, now *time.Time) {
		for i := range b.N {
			*now = now.Add(time.Minute)
			l := p.lease(ids[i&1023], *now)
			if err := p.release(ids[i&1023], l.Token, *now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
