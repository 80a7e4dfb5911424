package pool_test

import (
	"container/list"
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/attriqs/calltrack/pool"
)

// The benchmarks measure one lease plus one release with precomputed
// session ids. Simulated time advances one minute per operation and the
// cooldown is one minute, the steady state of a well-sized pool where the
// number at the head of the free list is out of cooldown. Each is paired
// with the same loop on mutexLRU, the baseline below; docs/benchmarks.md has
// the interleaved command and benchstat's comparison of the two.

var benchSizes = []int{10, 1000, 100000}

func benchSessions(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("5f0c6a7e-3b1d-4c1e-9a51-%012d", i)
	}
	return ids
}

func newBenchMemory(b *testing.B, n int) *pool.Memory {
	b.Helper()
	m, err := pool.New(onePool(n, func(pc *pool.PoolConfig) { pc.Cooldown = time.Minute }))
	if err != nil {
		b.Fatal(err)
	}
	// Finish the collection the allocator's own arrays may have started,
	// so it does not run into the timed loop.
	runtime.GC()
	return m
}

func BenchmarkLeaseRelease(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("numbers=%d", n), func(b *testing.B) {
			m := newBenchMemory(b, n)
			ids := benchSessions(1024)
			now := t0
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				now = now.Add(time.Minute)
				id := ids[i&1023]
				l, _ := m.Lease(ctx, "paid", id, now)
				if err := m.Release(ctx, "paid", id, l.Token, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLeaseReleaseParallel runs the same loop from GOMAXPROCS
// goroutines, each with its own sessions and its own simulated clock.
func BenchmarkLeaseReleaseParallel(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("numbers=%d", n), func(b *testing.B) {
			m := newBenchMemory(b, n)
			var worker atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := int(worker.Add(1)) - 1
				ids := benchSessions(8 * (w + 1))[8*w:]
				now := t0
				i := 0
				for pb.Next() {
					now = now.Add(time.Minute)
					id := ids[i&7]
					i++
					l, _ := m.Lease(ctx, "paid", id, now)
					if err := m.Release(ctx, "paid", id, l.Token, now); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// mutexLRU is the baseline the lock-free allocator is measured against, the
// pool an engineer would write first: one mutex, a container/list of free
// numbers (least recently released at the front, released ones pushed to
// the back) and a map from live session to its number. It does the work the
// benchmark asks of the allocator: a live session gets its number back, a
// new one takes the front (noting when it is handed out still cooling), and
// a release stamps when the number was freed and queues it at the back.
//
// List elements hold a pointer to the number's entry, allocated once, so the
// only allocation per operation is the list element that PushBack makes.
// Storing the small struct itself in the element would box it: a second
// allocation, and a slower baseline.
type mutexLRU struct {
	mu       sync.Mutex
	cooldown int64 // ms
	free     *list.List
	sessions map[string]*mutexNumber
	entries  []mutexNumber
	cooling  int // handouts of a number still cooling
}

// mutexNumber is one number of the baseline pool.
type mutexNumber struct {
	number  string
	freedAt int64 // unix ms
}

func newMutexLRU(n int, cooldown time.Duration) *mutexLRU {
	m := &mutexLRU{
		cooldown: cooldown.Milliseconds(),
		free:     list.New(),
		sessions: make(map[string]*mutexNumber, n),
		entries:  make([]mutexNumber, n),
	}
	for i, num := range testNumbers(n) {
		m.entries[i].number = num
		m.free.PushBack(&m.entries[i])
	}
	return m
}

func (m *mutexLRU) lease(session string, now time.Time) (string, bool) {
	m.mu.Lock()
	if e, ok := m.sessions[session]; ok {
		m.mu.Unlock()
		return e.number, true
	}
	front := m.free.Front()
	if front == nil {
		m.mu.Unlock()
		return "", false
	}
	e := m.free.Remove(front).(*mutexNumber)
	if e.freedAt+m.cooldown > now.UnixMilli() {
		m.cooling++
	}
	m.sessions[session] = e
	m.mu.Unlock()
	return e.number, true
}

func (m *mutexLRU) release(session string, now time.Time) bool {
	m.mu.Lock()
	e, ok := m.sessions[session]
	if ok {
		delete(m.sessions, session)
		e.freedAt = now.UnixMilli()
		m.free.PushBack(e)
	}
	m.mu.Unlock()
	return ok
}

// BenchmarkMutexBaseline is BenchmarkLeaseRelease's loop on the baseline.
func BenchmarkMutexBaseline(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("numbers=%d", n), func(b *testing.B) {
			m := newMutexLRU(n, time.Minute)
			runtime.GC()
			ids := benchSessions(1024)
			now := t0
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				now = now.Add(time.Minute)
				id := ids[i&1023]
				m.lease(id, now)
				if !m.release(id, now) {
					b.Fatal("release of a live session failed")
				}
			}
		})
	}
}

// BenchmarkMutexBaselineParallel is BenchmarkLeaseReleaseParallel's loop on
// the baseline.
func BenchmarkMutexBaselineParallel(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("numbers=%d", n), func(b *testing.B) {
			m := newMutexLRU(n, time.Minute)
			runtime.GC()
			var worker atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := int(worker.Add(1)) - 1
				ids := benchSessions(8 * (w + 1))[8*w:]
				now := t0
				i := 0
				for pb.Next() {
					now = now.Add(time.Minute)
					id := ids[i&7]
					i++
					m.lease(id, now)
					if !m.release(id, now) {
						b.Error("release of a live session failed")
						return
					}
				}
			})
		})
	}
}
