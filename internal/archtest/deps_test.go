package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Attribution over a paths file is a short command: what it links must
// not bring the telephony, phone-number, store and dashboard packages,
// whose initialisers (nyaruka/phonenumbers' metadata above all) cost such
// a run about as much as reading its file. The project's packages it may
// link are listed; of the rest only the standard library and the few
// modules classify needs.
func TestAttributionLinksNoTelephony(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the packages' dependencies")
	}
	out, err := exec.Command(goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}",
		"github.com/attriqs/calltrack/journey/attribution",
		"github.com/attriqs/calltrack/cmd/calltrack-attribute").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const project = "github.com/attriqs/calltrack"
	allowed := []string{
		project + "/classify",
		project + "/journey/touch",
		project + "/journey/attribution",
		project + "/internal/cli",
		project + "/internal/attributecmd",
		project + "/cmd/calltrack-attribute",
	}
	modules := []string{"go.yaml.in/yaml/v3", "golang.org/x/net/", "golang.org/x/text/"} // classify's
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, project+"/journey/attribution") {
		t.Fatalf("go list did not list attribution itself: %q", deps)
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "vendor/") {
			continue
		}
		if strings.HasPrefix(d, project+"/") || d == project {
			if !slices.Contains(allowed, d) {
				t.Errorf("attribution links %s", d)
			}
			continue
		}
		if !slices.ContainsFunc(modules, func(m string) bool { return d == m || strings.HasPrefix(d, m) }) {
			t.Errorf("attribution links %s", d)
		}
	}
}
