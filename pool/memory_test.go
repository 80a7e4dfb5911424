package pool_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/pool/pooltest"
)

func newMemory(t *testing.T, cfg pool.Config) pool.Allocator {
	m, err := pool.New(cfg)
	require.NoError(t, err)
	return m
}

func TestMemoryConformance(t *testing.T) {
	pooltest.Run(t, newMemory, pooltest.Features{})
}

// With one processor there is one free list, and LRU order is exact.
func TestMemoryConformanceOneProcessor(t *testing.T) {
	pooltest.Run(t, func(t *testing.T, cfg pool.Config) pool.Allocator {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		return newMemory(t, cfg)
	}, pooltest.Features{ExactLRU: true})
}
