package redispool_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/internal/testenv"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/pool/pooltest"
)

// flakyLink is a TCP proxy to Redis that the test can cut and restore, to
// stage an outage without touching the real server.
type flakyLink struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newFlakyLink(t *testing.T, target string) *flakyLink {
	l := &flakyLink{target: target}
	require.NoError(t, l.up("127.0.0.1:0"))
	t.Cleanup(l.down)
	return l
}

func (l *flakyLink) up(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.ln, l.addr = ln, ln.Addr().String()
	l.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", l.target)
			if err != nil {
				_ = c.Close()
				continue
			}
			l.mu.Lock()
			l.conns = append(l.conns, c, s)
			l.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); _ = s.Close() }()
			go func() { _, _ = io.Copy(c, s); _ = c.Close() }()
		}
	}()
	return nil
}

// down closes the listener and every proxied connection.
func (l *flakyLink) down() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		_ = l.ln.Close()
		l.ln = nil
	}
	for _, c := range l.conns {
		_ = c.Close()
	}
	l.conns = nil
}

func TestOutageGivesClearErrorsAndRecoversByItself(t *testing.T) {
	ctx := context.Background()
	link := newFlakyLink(t, testenv.RedisAddr(t))
	rdb := redis.NewClient(&redis.Options{Addr: link.addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	direct := newClient(t)
	cfg := pool.Config{Pools: []pool.PoolConfig{{Name: "paid", Numbers: pooltest.Numbers(3), BusinessNumber: "+12125550100"}}}
	a := newAllocator(t, rdb, cfg, uniquePrefix(t, direct))
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	before, err := a.Lease(ctx, "paid", "visitor-1", now)
	require.NoError(t, err)
	require.Equal(t, pool.Assigned, before.Outcome)

	link.down()
	l, err := a.Lease(ctx, "paid", "visitor-2", now)
	require.ErrorIs(t, err, pool.ErrUnavailable)
	assert.Equal(t, pool.Original, l.Outcome, "the visitor sees the business number")
	assert.Equal(t, "+12125550100", l.Number)
	_, err = a.Renew(ctx, "paid", "visitor-1", before.Token, now)
	assert.ErrorIs(t, err, pool.ErrUnavailable)
	assert.ErrorIs(t, a.Release(ctx, "paid", "visitor-1", before.Token, now), pool.ErrUnavailable)
	_, err = a.Stats(ctx, "paid", now)
	assert.ErrorIs(t, err, pool.ErrUnavailable)
	_, err = a.HoldersAt(ctx, before.Number, now, 0)
	assert.ErrorIs(t, err, pool.ErrUnavailable)
	assert.False(t, errors.Is(err, pool.ErrStaleLease), "an outage is not a stale lease")

	require.NoError(t, link.up(link.addr))
	require.Eventually(t, func() bool {
		_, err := a.Lease(ctx, "paid", "visitor-2", now.Add(time.Minute))
		return err == nil
	}, time.Minute, 50*time.Millisecond, "service resumes with no manual step") // a wait, not a performance figure
	after, err := a.Lease(ctx, "paid", "visitor-1", now.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, pool.Continued, after.Outcome, "state survived the outage")
	assert.Equal(t, before.Number, after.Number)
}
