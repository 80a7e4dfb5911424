package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

// Attribution over a paths file is a short command: the packages it
// links must not bring the telephony, phone-number and dashboard
// packages, whose initialisers (nyaruka/phonenumbers' metadata above
// all) cost such a run about as much as reading its file.
func TestAttributionLinksNoTelephony(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the packages' dependencies")
	}
	out, err := exec.Command(goTool, "list", "-deps",
		"github.com/attriqs/calltrack/journey/attribution",
		"github.com/attriqs/calltrack/cmd/calltrack-attribute").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list listed only %d packages: %q", len(deps), deps)
	}
	for _, d := range deps {
		switch {
		case d == "github.com/nyaruka/phonenumbers",
			d == "github.com/attriqs/calltrack/phone",
			d == "github.com/attriqs/calltrack/provider" || strings.HasPrefix(d, "github.com/attriqs/calltrack/provider/"),
			d == "github.com/attriqs/calltrack/dni" || strings.HasPrefix(d, "github.com/attriqs/calltrack/dni/"),
			d == "github.com/attriqs/calltrack/journey":
			t.Errorf("attribution links %s", d)
		}
	}
}
