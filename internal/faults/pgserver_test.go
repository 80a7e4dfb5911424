//go:build linux

package faults_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/attriqs/calltrack/internal/testenv"
)

// pgServer is a throwaway PostgreSQL server owned by one test: its own
// data directory under t.TempDir(), its own port on 127.0.0.1, its unix
// socket in the same temporary directory. The test starts and signals the
// postmaster itself rather than through pg_ctl, so it always knows the
// process it is stopping; the signals are the ones pg_ctl sends (SIGQUIT
// for stop -m immediate, SIGINT for -m fast).
type pgServer struct {
	t    *testing.T
	bin  string              // directory holding initdb and postgres
	dir  string              // owned by the server's OS user: data/, socket, log
	port int                 //
	cred *syscall.Credential // the postgres OS user when running as root; nil otherwise

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	hung   []int         // processes stopped by hang, postmaster last
}

// needPostgres skips the test, or fails it when CALLTRACK_REQUIRE_SERVICES=1,
// because a throwaway PostgreSQL server cannot be run here.
func needPostgres(t *testing.T, why string) {
	t.Helper()
	if testenv.Required() {
		t.Fatalf("faults: a throwaway PostgreSQL server is required (CALLTRACK_REQUIRE_SERVICES=1) but cannot run: %s", why)
	}
	t.Skipf("faults: cannot run a throwaway PostgreSQL server, skipping: %s (install the postgresql package, or put initdb and postgres on PATH)", why)
}

// postgresBinDir finds initdb and postgres: on PATH first, then where
// Debian (/usr/lib/postgresql/N/bin, newest first) and source builds put
// them.
func postgresBinDir() string {
	has := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.IsDir() {
				return false
			}
		}
		return true
	}
	if p, err := exec.LookPath("initdb"); err == nil && has(filepath.Dir(p)) {
		return filepath.Dir(p)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(dir string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int { return cmp.Compare(version(b), version(a)) })
	for _, dir := range append(dirs, "/usr/local/pgsql/bin") {
		if has(dir) {
			return dir
		}
	}
	return ""
}

// newPGServer initdbs a cluster and starts it. initdb and postgres refuse
// to run as root, so as root both run as the postgres OS user, on a
// directory it owns.
func newPGServer(t *testing.T) *pgServer {
	t.Helper()
	bin := postgresBinDir()
	if bin == "" {
		needPostgres(t, "initdb and postgres not found on PATH or under /usr/lib/postgresql/*/bin")
	}
	s := &pgServer{t: t, bin: bin, dir: t.TempDir()}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			needPostgres(t, "running as root and there is no postgres OS user to run the server as: "+err.Error())
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		// t.TempDir's parent is private to root; the server user must be
		// able to reach its own directory through it.
		if err := os.Chmod(filepath.Dir(s.dir), 0o711); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(s.dir, int(uid), int(gid)); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()

	initdb := s.command(filepath.Join(bin, "initdb"), "-D", s.data(), "-U", "postgres", "-A", "trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	var out bytes.Buffer
	initdb.Stdout, initdb.Stderr = &out, &out
	if err := initdb.Run(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out.Bytes())
	}
	t.Cleanup(s.cleanup)
	s.start()
	return s
}

func (s *pgServer) data() string { return filepath.Join(s.dir, "data") }

// DSN connects as the superuser over TCP. connect_timeout bounds a
// connection attempt to a hung server, as a production DSN should.
func (s *pgServer) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", s.port)
}

func (s *pgServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = s.dir
	// Its own process group, so a ^C to the test does not reach it first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: s.cred}
	return cmd
}

// start runs the postmaster and waits until it accepts connections (after
// crash recovery when it was stopped with SIGQUIT).
func (s *pgServer) start() {
	s.t.Helper()
	log, err := os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer log.Close() // the child holds its own descriptor
	cmd := s.command(filepath.Join(s.bin, "postgres"), "-D", s.data(), "-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+s.dir)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("postgres: %v", err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) {
		_ = cmd.Wait()
		close(exited)
	}(s.exited)

	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgconn.Connect(ctx, s.DSN())
		cancel()
		if err == nil {
			_ = conn.Close(context.Background())
			return
		}
		select {
		case <-s.exited:
			s.t.Fatalf("postgres exited while starting: %v\n%s", cmd.ProcessState, s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("postgres did not accept connections within a minute: %v\n%s", err, s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends the postmaster sig (SIGQUIT: immediate, no checkpoint, crash
// recovery at the next start; SIGINT: fast, sessions terminated with
// 57P01) and waits for it to exit.
func (s *pgServer) stop(sig syscall.Signal) {
	s.t.Helper()
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
		s.t.Fatalf("postgres ignored %v for 30s; killed\n%s", sig, s.logTail())
	}
}

// hang freezes the server with SIGSTOP: the postmaster first, so it forks
// no one new, then every child it has. PostgreSQL puts each child in its
// own process group (InitPostmasterChild calls setsid), so a group signal
// would miss them; they are found through /proc. Connections stay open
// and new ones are accepted by the kernel's backlog, but nothing answers:
// a server hung on I/O or in a stop-the-world pause looks the same.
func (s *pgServer) hang() {
	s.t.Helper()
	pm := s.cmd.Process.Pid
	if err := syscall.Kill(pm, syscall.SIGSTOP); err != nil {
		s.t.Fatalf("SIGSTOP postmaster: %v", err)
	}
	children, err := childrenOf(pm)
	if err != nil {
		_ = syscall.Kill(pm, syscall.SIGCONT)
		s.t.Fatalf("listing the postmaster's children: %v", err)
	}
	for _, pid := range children {
		if syscall.Kill(pid, syscall.SIGSTOP) == nil {
			s.hung = append(s.hung, pid)
		}
	}
	s.hung = append(s.hung, pm)
}

// resume undoes hang.
func (s *pgServer) resume() {
	for _, pid := range s.hung {
		_ = syscall.Kill(pid, syscall.SIGCONT)
	}
	s.hung = nil
}

func (s *pgServer) cleanup() {
	s.resume()
	if s.cmd != nil {
		select {
		case <-s.exited:
		default:
			_ = s.cmd.Process.Signal(syscall.SIGQUIT)
			select {
			case <-s.exited:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
				<-s.exited
			}
		}
	}
	if s.t.Failed() {
		s.t.Logf("postgres log (tail):\n%s", s.logTail())
	}
}

func (s *pgServer) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(fields[1]); err == nil && ppid == pid {
			out = append(out, child)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("the postmaster has no children (no checkpointer?)")
	}
	return out, nil
}
