package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/internal/logbuf"
	"github.com/attriqs/calltrack/internal/testenv"
)

// buildBinary compiles this example once per test run: the demo starts
// the instances as separate processes of it.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "multiinstance")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

func demo(t *testing.T, bin string, allocator string, visitors int) (Summary, *logbuf.Buffer) {
	t.Helper()
	log := new(logbuf.Buffer)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	sum, err := runDemo(ctx, demoOptions{Binary: bin, Postgres: testenv.PostgresDSN(t), Redis: testenv.RedisAddr(t),
		Instances: 2, Visitors: visitors, PoolSize: visitors, Workers: 16, Allocator: allocator, Log: log})
	require.NoError(t, err, "instance logs:\n%s", log.String())
	var out bytes.Buffer
	writeSummary(&out, sum)
	t.Log("\n" + out.String())
	assertCleanedUp(t, sum)
	return sum, log
}

// TestTwoProcesses runs two app processes, separate processes of this
// example's binary, on one PostgreSQL store behind the round-robin proxy.
func TestTwoProcesses(t *testing.T) {
	testenv.PostgresDSN(t)
	testenv.RedisAddr(t)
	bin := buildBinary(t)
	t.Run("one pool shared through Redis", func(t *testing.T) { sharedPool(t, bin) })
	t.Run("a pool per process fails the checks", func(t *testing.T) { poolPerProcess(t, bin) })
}

// sharedPool: the pool has exactly one number per visitor, so a single
// double lease would leave a visitor without a number of their own.
func sharedPool(t *testing.T, bin string) {
	const visitors = 120
	sum, log := demo(t, bin, "redis", visitors)

	assert.Empty(t, sum.Problems, "instance logs:\n%s", log.String())
	assert.Equal(t, visitors, sum.Visits)
	assert.Equal(t, visitors, sum.NumbersLeased, "every visitor a number of their own")
	assert.Zero(t, sum.DoubleLeases)
	assert.Zero(t, sum.Reuses)
	assert.Equal(t, visitors, sum.PoolHolds)
	assert.Equal(t, visitors, sum.SessionKept, "a session keeps its number on the other process")
	assert.Len(t, sum.VisitsBy, 2, "both processes served visits")
	assert.Len(t, sum.CallsBy, 2, "both processes answered calls")
	assert.Positive(t, sum.CrossInstance, "calls answered by the process that did not serve the visit")
	assert.Equal(t, visitors, sum.Calls)
	assert.Equal(t, visitors, sum.Forwarded)
	assert.Equal(t, visitors, sum.Stitched, "every call stitched to its true session")
	assert.Equal(t, visitors, sum.Exact)
}

// poolPerProcess is the control: the same run with each process leasing
// from its own in-process pool hands numbers to two live sessions and
// misattributes calls, and the checks say so.
func poolPerProcess(t *testing.T, bin string) {
	sum, _ := demo(t, bin, "memory", 40)
	assert.NotEmpty(t, sum.Problems)
	assert.Positive(t, sum.DoubleLeases)
	assert.Less(t, sum.Stitched, sum.Calls)
	assert.False(t, sum.OK())
}

// assertCleanedUp checks the run removed its schema and keys.
func assertCleanedUp(t *testing.T, sum Summary) {
	t.Helper()
	ctx := context.Background()
	pg, err := pgxpool.New(ctx, testenv.PostgresDSN(t))
	require.NoError(t, err)
	defer pg.Close()
	var n int
	require.NoError(t, pg.QueryRow(ctx, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", sum.Schema).Scan(&n))
	assert.Zero(t, n, "schema %s dropped", sum.Schema)

	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, "{"+sum.Prefix+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	require.NoError(t, iter.Err())
	assert.Empty(t, keys, "keys under %s deleted", sum.Prefix)
}
