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
// number at the head of the free list is out of cooldown.
//
//	go test ./pool -run '^$' -bench 'LeaseRelease' -benchmem -cpu 1,2

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

// mutexLRU is the baseline the lock-free allocator is measured against: one
// mutex, a container/list LRU of free numbers and a map of live sessions.
type mutexLRU struct {
	mu       sync.Mutex
	free     *list.List // of int, least recently released at the front
	sessions map[string]int
	numbers  []string
}

func newMutexLRU(n int) *mutexLRU {
	m := &mutexLRU{free: list.New(), sessions: map[string]int{}, numbers: make([]string, n)}
	for i := range n {
		m.free.PushBack(i)
	}
	return m
}

func (m *mutexLRU) lease(session string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i, ok := m.sessions[session]; ok {
		return m.numbers[i], true
	}
	front := m.free.Front()
	if front == nil {
		return "", false
	}
	i := m.free.Remove(front).(int)
	m.sessions[session] = i
	return m.numbers[i], true
}

func (m *mutexLRU) release(session string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i, ok := m.sessions[session]; ok {
		delete(m.sessions, session)
		m.free.PushBack(i)
	}
}

func BenchmarkMutexBaseline(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("numbers=%d", n), func(b *testing.B) {
			m := newMutexLRU(n)
			runtime.GC()
			ids := benchSessions(1024)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				id := ids[i&1023]
				m.lease(id)
				m.release(id)
			}
		})
	}
}

func BenchmarkMutexBaselineParallel(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("numbers=%d", n), func(b *testing.B) {
			m := newMutexLRU(n)
			runtime.GC()
			var worker atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := int(worker.Add(1)) - 1
				ids := benchSessions(8 * (w + 1))[8*w:]
				i := 0
				for pb.Next() {
					id := ids[i&7]
					i++
					m.lease(id)
					m.release(id)
				}
			})
		})
	}
}
