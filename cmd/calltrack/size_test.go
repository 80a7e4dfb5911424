package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/report"
)

// TestSizePrintsTheRecommendationWithItsReasoning wants pool.Recommend's
// accuracy size with its modelled accuracy and target, the cooldown rule's
// size for comparison and the shortfall chance, for the default accuracy
// and unknown call delays and for both flags given.
func TestSizePrintsTheRecommendationWithItsReasoning(t *testing.T) {
	for _, tc := range []struct {
		name    string
		flags   []string
		traffic pool.Traffic
		target  float64
		delays  string
	}{
		{"defaults", nil, pool.Traffic{}, pool.DefaultAccuracy, "unknown: spread evenly over window + cooldown, the worst case"},
		{"accuracy and mean call delay", []string{"-accuracy", "0.99", "-mean-call-delay", "4m"},
			pool.Traffic{Accuracy: 0.99, MeanCallDelay: 4 * time.Minute}, 0.99, "4m0s on average (exponential)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"size", "-arrivals-per-hour", "120", "-session-minutes", "5", "-cooldown", "45m"}, tc.flags...)
			if err := run(args, &out, &errOut); err != nil {
				t.Fatalf("run: %v\n%s", err, errOut.String())
			}
			traffic := tc.traffic
			traffic.PeakHourlyVisitors, traffic.AverageSession, traffic.Cooldown = 120, 5*time.Minute, 45*time.Minute
			rec, err := pool.Recommend(traffic)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Numbers >= rec.CooldownNumbers {
				t.Fatalf("fixture: accuracy size %d is not below the cooldown rule's %d, so the output cannot tell them apart", rec.Numbers, rec.CooldownNumbers)
			}
			got := strings.Join(strings.Fields(out.String()), " ")
			for _, s := range []string{
				fmt.Sprintf("Recommended pool size: %d numbers (%s of calls stitched to their true session; target %s)", rec.Numbers, report.FormatShare(rec.Accuracy), report.FormatShare(tc.target)),
				"35m0s (visit 5m0s + session window 30m0s)",
				"callers call after leaving the page " + tc.delays,
				fmt.Sprintf("%.1f = 120/h × (35m0s + 45m0s)", rec.Busy),
				fmt.Sprintf("calls stitched to their true session at %d %s (target %s)", rec.Numbers, report.FormatShare(rec.Accuracy), report.FormatShare(tc.target)),
				fmt.Sprintf("the cooldown rule's size, for comparison %d numbers", rec.CooldownNumbers),
				fmt.Sprintf("chance no number is free at %d %s (information:", rec.Numbers, report.FormatShare(rec.ShortfallProbability)),
				fmt.Sprintf("below %d numbers", rec.NumbersWithoutCooldown),
			} {
				if !strings.Contains(got, s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
		})
	}
}

func TestSizeFlagErrorsNameTheFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"-session-minutes", "5"}, "-arrivals-per-hour"},
		{[]string{"-arrivals-per-hour", "10"}, "-session-minutes"},
		{[]string{"-arrivals-per-hour", "-3", "-session-minutes", "5"}, "-arrivals-per-hour"},
		{[]string{"-arrivals-per-hour", "NaN", "-session-minutes", "5"}, "-arrivals-per-hour"},
		{[]string{"-arrivals-per-hour", "10", "-session-minutes", "-1"}, "-session-minutes"},
		{[]string{"-arrivals-per-hour", "10", "-session-minutes", "5", "-window", "0s"}, "-window"},
		{[]string{"-arrivals-per-hour", "10", "-session-minutes", "5", "-cooldown", "ten"}, "-cooldown"},
		{[]string{"-arrivals-per-hour", "10", "-session-minutes", "5", "-target", "1"}, "-target"},
		{[]string{"-arrivals-per-hour", "10", "-session-minutes", "5", "-accuracy", "1"}, "-accuracy"},
		{[]string{"-arrivals-per-hour", "10", "-session-minutes", "5", "-accuracy", "99.5"}, "-accuracy"},
		{[]string{"-arrivals-per-hour", "10", "-session-minutes", "5", "-accuracy", "0"}, "-accuracy"},
		{[]string{"-arrivals-per-hour", "10", "-session-minutes", "5", "-mean-call-delay", "4"}, "-mean-call-delay"},
		{[]string{"-arrivals-per-hour", "10", "-session-minutes", "5", "-mean-call-delay", "0s"}, "-mean-call-delay"},
		{[]string{"-arrivals-per-hour", "10", "-session-minutes", "5", "-mean-call-delay", "-2m"}, "-mean-call-delay"},
		{[]string{"-arrivals-per-hour", "10", "-session-minutes", "5", "extra"}, "every setting is a flag"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(append([]string{"size"}, tc.args...), &out, &errOut)
			if err == nil {
				t.Fatalf("no error; output:\n%s", out.String())
			}
			if !strings.Contains(err.Error(), tc.flag) {
				t.Errorf("error %q does not name %s", err, tc.flag)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"help"}, &out, &errOut); err == nil || !strings.Contains(out.String(), "attribute") {
		t.Errorf("help: %v\n%s", err, out.String())
	}
	for _, c := range commands() {
		out.Reset()
		errOut.Reset()
		_ = run([]string{c.name, "-h"}, &out, &errOut)
		if !strings.Contains(errOut.String(), "Usage: calltrack "+c.name) || !strings.Contains(errOut.String(), "  -") {
			t.Errorf("%s -h printed:\n%s", c.name, errOut.String())
		}
	}
	if err := run([]string{"nope"}, &out, &errOut); err == nil {
		t.Error("an unknown command ran")
	}
}
