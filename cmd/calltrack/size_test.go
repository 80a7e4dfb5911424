package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/pool"
)

func TestSizePrintsTheRecommendationWithItsReasoning(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"size", "-arrivals-per-hour", "120", "-session-minutes", "5", "-cooldown", "45m"}
	if err := run(args, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	rec, err := pool.Recommend(pool.Traffic{PeakHourlyVisitors: 120, AverageSession: 5 * time.Minute, Cooldown: 45 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		fmt.Sprintf("Recommended pool size: %d numbers", rec.Numbers),
		"35m0s (visit 5m0s + session window 30m0s)",
		fmt.Sprintf("%.1f = 120/h × (35m0s + 45m0s)", rec.Busy),
		fmt.Sprintf("below %d numbers", rec.NumbersWithoutCooldown),
	} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
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
