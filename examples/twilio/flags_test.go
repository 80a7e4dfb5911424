package main

import (
	"path/filepath"
	"testing"

	"github.com/attriqs/calltrack/internal/cli/clitest"
)

func TestMain(m *testing.M) { clitest.Main(m, main) }

func TestBadFlagsExitAtOnce(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing") // a directory that is not there
	t.Setenv("TWILIO_ACCOUNT_SID", testSID)
	t.Setenv("TWILIO_AUTH_TOKEN", testToken)
	t.Setenv("PUBLIC_URL", testPublic)
	t.Setenv("BUSINESS_NUMBER", testBusiness)
	clitest.BadFlags(t, map[string]string{
		"-pool-size 0":             "twilio: -pool-size 0: must be at least 1",
		"-buy":                     "-buy needs -area-code",
		"-business 12":             "-business: ",
		"-addr 8080":               `-addr "8080": want host:port`,
		"-db " + missing + "/x.db": "-db " + missing + "/x.db: cannot write in " + missing,
		"-pool-size 0 -addr 8080":  "-pool-size 0: must be at least 1; -addr",
		"-nosuchflag":              "flag provided but not defined: -nosuchflag",
		"-pool-size five":          `invalid value "five" for flag -pool-size`,
	})
}

func TestMissingEnvironmentIsOneLine(t *testing.T) {
	for _, k := range []string{"TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "PUBLIC_URL", "BUSINESS_NUMBER"} {
		t.Setenv(k, "")
	}
	clitest.BadFlags(t, map[string]string{
		"-area-code 415": "TWILIO_ACCOUNT_SID: set it to your account SID (AC…, in the Twilio console); TWILIO_AUTH_TOKEN",
	})
}
