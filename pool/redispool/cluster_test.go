package redispool_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/internal/testenv"
	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/pool/pooltest"
)

// testCluster is a Redis Cluster of three masters with one replica each,
// started by the test on free local ports and stopped when it ends.
type testCluster struct {
	addrs []string
	procs map[string]*exec.Cmd // by address
}

// clusterNodeTimeout is the cluster's failure-detection time: short, so a
// failover completes in a few seconds.
const clusterNodeTimeout = 1000 * time.Millisecond

// startCluster starts six redis-server processes and joins them with
// redis-cli --cluster create; it skips (or fails when
// CALLTRACK_REQUIRE_SERVICES=1) when the binaries are absent.
func startCluster(t *testing.T) *testCluster {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			if testenv.Required() {
				t.Fatalf("redis cluster: %s is required (CALLTRACK_REQUIRE_SERVICES=1) but not on PATH", bin)
			}
			t.Skipf("redis cluster: %s not on PATH, skipping; install redis-server and redis-tools", bin)
		}
	}
	dir := t.TempDir()
	c := &testCluster{procs: map[string]*exec.Cmd{}}
	for i, port := range freeClusterPorts(t, 6) {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		nodeDir := filepath.Join(dir, strconv.Itoa(i))
		require.NoError(t, os.Mkdir(nodeDir, 0o755))
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(nodeDir, "nodes.conf"),
			"--cluster-node-timeout", strconv.Itoa(int(clusterNodeTimeout/time.Millisecond)),
			"--appendonly", "no", "--save", "", "--daemonize", "no", "--dir", nodeDir,
			"--logfile", filepath.Join(nodeDir, "redis.log"))
		require.NoError(t, cmd.Start(), "start redis-server on %s", addr)
		c.addrs = append(c.addrs, addr)
		c.procs[addr] = cmd
	}
	t.Cleanup(func() {
		for _, cmd := range c.procs {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	for _, addr := range c.addrs {
		waitFor(t, "redis-server at "+addr+" answers PING", func(ctx context.Context) error {
			rdb := redis.NewClient(&redis.Options{Addr: addr})
			defer func() { _ = rdb.Close() }()
			return rdb.Ping(ctx).Err()
		})
	}
	args := append([]string{"--cluster", "create"}, c.addrs...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	out, err := exec.Command("redis-cli", args...).CombinedOutput()
	require.NoError(t, err, "redis-cli --cluster create: %s", out)
	c.waitReady(t, c.addrs)
	return c
}

// freeClusterPorts finds n ports free now whose cluster bus ports (+10000)
// are free too.
func freeClusterPorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for tries := 0; len(ports) < n && tries < 1000; tries++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port := ln.Addr().(*net.TCPAddr).Port
		bus, busErr := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+10000))
		_ = ln.Close()
		if busErr != nil {
			continue
		}
		_ = bus.Close()
		ports = append(ports, port)
	}
	require.Len(t, ports, n, "free ports for the cluster")
	return ports
}

// waitReady waits until every node in addrs reports cluster_state:ok and
// every replica among them has its link to its master up.
func (c *testCluster) waitReady(t *testing.T, addrs []string) {
	t.Helper()
	for _, addr := range addrs {
		waitFor(t, "node "+addr+" reports cluster_state:ok with its replication link up", func(ctx context.Context) error {
			rdb := redis.NewClient(&redis.Options{Addr: addr})
			defer func() { _ = rdb.Close() }()
			info, err := rdb.ClusterInfo(ctx).Result()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") {
				return fmt.Errorf("cluster state: %q", firstLine(info))
			}
			repl, err := rdb.Info(ctx, "replication").Result()
			if err != nil {
				return err
			}
			if strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
				return fmt.Errorf("replica link down")
			}
			return nil
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}

// waitFor polls check until it returns nil, failing the test at a bound
// derived from the test's deadline (two minutes without one).
func waitFor(t *testing.T, what string, check func(context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	if d, ok := t.Deadline(); ok && d.Add(-10*time.Second).Before(deadline) {
		deadline = d.Add(-10 * time.Second)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond) // a polling interval, not a performance figure
	defer tick.Stop()
	var last error
	for {
		cctx, ccancel := context.WithTimeout(ctx, time.Second)
		last = check(cctx)
		ccancel()
		if last == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: gave up at the test's deadline: %v", what, last)
		case <-tick.C:
		}
	}
}

// client returns a cluster client seeded with every node.
func (c *testCluster) client(t testing.TB) *redis.ClusterClient {
	rdb := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:       c.addrs,
		DialTimeout: 200 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// masterOf returns the address of the master serving key's slot, and the
// addresses of the other nodes.
func (c *testCluster) masterOf(t *testing.T, rdb *redis.ClusterClient, key string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	slot, err := rdb.ClusterKeySlot(ctx, key).Result()
	require.NoError(t, err)
	slots, err := rdb.ClusterSlots(ctx).Result()
	require.NoError(t, err)
	for _, s := range slots {
		if int64(s.Start) <= slot && slot <= int64(s.End) {
			master := s.Nodes[0].Addr
			var others []string
			for _, a := range c.addrs {
				if a != master {
					others = append(others, a)
				}
			}
			return master, others
		}
	}
	t.Fatalf("no node serves slot %d", slot)
	return "", nil
}

// kill stops the node at addr with SIGKILL: no goodbye to the cluster.
func (c *testCluster) kill(t *testing.T, addr string) {
	t.Helper()
	cmd := c.procs[addr]
	require.NotNil(t, cmd, "node %s", addr)
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	delete(c.procs, addr)
}

// clusterPrefix gives a test its own keys and deletes them afterwards from
// every master.
func clusterPrefix(t testing.TB, rdb *redis.ClusterClient) string {
	prefix := fmt.Sprintf("calltrack-test:%d:%d", time.Now().UnixNano(), prefixSeq.Add(1))
	t.Cleanup(func() {
		_ = rdb.ForEachMaster(context.Background(), func(ctx context.Context, node *redis.Client) error {
			keys, err := node.Keys(ctx, "{"+prefix+":*").Result()
			if err == nil && len(keys) > 0 {
				for _, k := range keys {
					node.Del(ctx, k)
				}
			}
			return nil
		})
	})
	return prefix
}

// TestClusterConformance runs the allocator suite on a real Redis Cluster
// (three masters, one replica each): a pool's keys share one hash slot, so
// every script runs on one node.
func TestClusterConformance(t *testing.T) {
	c := startCluster(t)
	rdb := c.client(t)
	pooltest.Run(t, func(t *testing.T, cfg pool.Config) pool.Allocator {
		return newAllocator(t, rdb, cfg, clusterPrefix(t, rdb))
	}, pooltest.Features{ExactLRU: true})
}
