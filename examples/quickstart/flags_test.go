package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/internal/cli/clitest"
	"github.com/attriqs/calltrack/internal/logbuf"
	"github.com/attriqs/calltrack/store/memstore"
)

func TestMain(m *testing.M) { clitest.Main(m, main) }

func TestBadFlagsExitAtOnce(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing") // a directory that is not there
	clitest.BadFlags(t, map[string]string{
		"-store disk":              `quickstart: -store "disk": use sqlite or memory`,
		"-db " + missing + "/q.db": "-db " + missing + "/q.db: cannot write in " + missing,
		"-addr 8080":               `-addr "8080": want host:port`,
		"-postgres ://nohost":      "-postgres: ",
		"-addr 8080 -store disk":   `-addr "8080": want host:port, e.g. 127.0.0.1:8080; -store "disk"`,
		"-nosuchflag":              "flag provided but not defined: -nosuchflag",
		"-quiet=maybe":             `invalid boolean value "maybe" for -quiet`,
		"-spool " + missing + "/s": "-spool " + missing + "/s: cannot write in " + missing,
	})
}

// A visit, its call and the call's conversion each log one Info line,
// however many times the service writes them again.
func TestActivityLogsOneLineEach(t *testing.T) {
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var d *demo
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { d.ServeHTTP(w, r) }))
	defer srv.Close()
	d, err := newDemo(srv.URL, newActivityLog(memstore.New(), log), t.TempDir(), time.Now, true)
	require.NoError(t, err)
	visitAndCall(t, srv.URL, arrivals[0].Query, "(212) 555-0123", 90)
	require.NoError(t, d.Close(), "drain the call ingest")

	out := logs.String()
	t.Log("\n" + out)
	assert.Equal(t, 1, strings.Count(out, "msg=visit "), "one line per visit")
	assert.Equal(t, 1, strings.Count(out, "msg=call "), "one line per call, not per status callback")
	assert.Equal(t, 1, strings.Count(out, "msg=conversion "), "one line per conversion")
	assert.Contains(t, out, `channel="Paid Search"`)
	assert.Contains(t, out, "confidence=exact")
	assert.Contains(t, out, "value=$250.00")
}

func TestQuietLogsNothingPerVisit(t *testing.T) {
	var logs logbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var d *demo
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { d.ServeHTTP(w, r) }))
	defer srv.Close()
	d, err := newDemo(srv.URL, newActivityLog(memstore.New(), log), t.TempDir(), time.Now, true)
	require.NoError(t, err)
	visitAndCall(t, srv.URL, arrivals[0].Query, "(212) 555-0123", 90)
	require.NoError(t, d.Close())
	assert.Empty(t, logs.String())
}
