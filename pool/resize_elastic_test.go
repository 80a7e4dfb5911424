package pool_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/pool/pooltest"
)

func TestElasticConformance(t *testing.T) {
	pooltest.Run(t, func(t *testing.T, cfg pool.Config) pool.Allocator {
		e, err := pool.NewElastic(cfg)
		require.NoError(t, err)
		return e
	}, pooltest.Features{ExactLRU: true})
}

func TestElasticResize(t *testing.T) {
	pooltest.RunResize(t, func(t *testing.T, cfg pool.Config) pool.Allocator {
		e, err := pool.NewElastic(cfg)
		require.NoError(t, err)
		return e
	}, pooltest.Features{ExactLRU: true})
}
