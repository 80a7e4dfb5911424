package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/report"
	"github.com/attriqs/calltrack/store/sqlite"
)

// newSQLiteStore opens a new SQLite store in the test's directory; the
// caller closes it before a command opens the file at path.
func newSQLiteStore(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "calls.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return st, path
}

// holdsFixture writes a day of holds of pool "ads" (and one of another
// pool) to a new SQLite store and returns its flag value and the holds.
func holdsFixture(t *testing.T) (string, []pool.HoldRecord) {
	t.Helper()
	ctx := context.Background()
	st, path := newSQLiteStore(t)
	defer st.Close()
	day := fixtureDay()
	var holds []pool.HoldRecord
	for i := range 40 {
		from := day.Add(time.Duration(9*60+i*7) * time.Minute)
		h := pool.HoldRecord{
			Pool: "ads", Number: fmt.Sprintf("+1415555%04d", i%4), SessionID: fmt.Sprintf("s%d", i),
			From: from, Until: from.Add(time.Duration(20+i%3*10) * time.Minute), Reused: i%9 == 0,
		}
		holds = append(holds, h)
	}
	holds = append(holds, pool.HoldRecord{Pool: "ads", Number: "+14155550000", SessionID: "live", From: day.Add(20 * time.Hour)})
	other := pool.HoldRecord{Pool: "brand", Number: "+14155559999", SessionID: "b", From: day.Add(time.Hour), Until: day.Add(2 * time.Hour)}
	for _, h := range append(holds, other) {
		if err := st.RecordHold(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	return "sqlite:" + path, holds
}

// fixtureDay is the day of the fixture's holds: two days ago, so that
// serve finds them among recent holds.
func fixtureDay() time.Time { return time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -2) }

// TestAuditReadsTheStore wants the command to print what pool.Audit makes
// of the pool's holds in the period, with the recommendation.
func TestAuditReadsTheStore(t *testing.T) {
	storeURL, holds := holdsFixture(t)
	var out, errOut bytes.Buffer
	from := holds[0].From.Truncate(24 * time.Hour)
	args := []string{"audit", "-store", storeURL, "-pool", "ads", "-size", "4", "-cooldown", "30m", "-from", day(from), "-to", day(from.AddDate(0, 0, 1))}
	if err := run(args, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	rep, err := pool.Audit(holds, pool.AuditOptions{Size: 4, Cooldown: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	writeAudit(&want, "ads", 4, 30*time.Minute, 0.01, from, from.AddDate(0, 0, 1), len(holds), rep)
	if out.String() != want.String() {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want.String())
	}
	for _, s := range []string{
		fmt.Sprintf("holds %d (and 1 still held", rep.Holds),
		fmt.Sprintf("Recommended size: %d numbers", rep.Recommended.Numbers),
		fmt.Sprintf("peak arrivals %d holds", rep.PeakHourlyArrivals),
		fmt.Sprintf("calls stitched to their true session at %d %s (target %s)", rep.Recommended.Numbers, report.FormatShare(rep.Recommended.Accuracy), report.FormatShare(pool.DefaultAccuracy)),
		fmt.Sprintf("the cooldown rule's size, for comparison %d numbers", rep.Recommended.CooldownNumbers),
		fmt.Sprintf("chance no number is free at %d %s (information:", rep.Recommended.Numbers, report.FormatShare(rep.Recommended.ShortfallProbability)),
	} {
		if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
}

func TestAuditFlagErrorsNameTheFlag(t *testing.T) {
	storeURL, _ := holdsFixture(t)
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"-pool", "ads", "-size", "4"}, "-store"},
		{[]string{"-store", "sqlite:" + filepath.Join(t.TempDir(), "none.db"), "-pool", "ads", "-size", "4"}, "-store"},
		{[]string{"-store", "mysql://x", "-pool", "ads", "-size", "4"}, "-store"},
		{[]string{"-store", storeURL, "-size", "4"}, "-pool"},
		{[]string{"-store", storeURL, "-pool", "ads"}, "-size"},
		{[]string{"-store", storeURL, "-pool", "ads", "-size", "4", "-cooldown", "0s"}, "-cooldown"},
		{[]string{"-store", storeURL, "-pool", "ads", "-size", "4", "-from", "March"}, "-from"},
		{[]string{"-store", storeURL, "-pool", "ads", "-size", "4", "-to", "2026-13-01"}, "-to"},
		{[]string{"-store", storeURL, "-pool", "ads", "-size", "4", "-from", "2026-03-05", "-to", "2026-03-01"}, "-from"},
		{[]string{"-store", storeURL, "-pool", "nope", "-size", "4", "-from", "2026-03-01", "-to", "2026-03-05"}, "-pool"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(append([]string{"audit"}, tc.args...), &out, &errOut)
			if err == nil {
				t.Fatalf("no error; output:\n%s", out.String())
			}
			if !strings.Contains(err.Error(), tc.flag) {
				t.Errorf("error %q does not name %s", err, tc.flag)
			}
		})
	}
}

// TestAuditOpensSQLiteReadOnly: a report must not write the store it
// reads.
func TestAuditOpensSQLiteReadOnly(t *testing.T) {
	storeURL, _ := holdsFixture(t)
	st, closeStore, err := openStore(context.Background(), storeURL, true)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	err = st.RecordHold(context.Background(), pool.HoldRecord{Pool: "ads", Number: "+14155550001", SessionID: "w", From: time.Now()})
	if err == nil {
		t.Fatal("a read-only store accepted a write")
	}
}
