package tracker_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/attriqs/calltrack/dni/tracker"
)

// Build the script once at start-up, mount its handler and put the hashed
// URL in the page's head.
func ExampleBuild() {
	s, err := tracker.Build(tracker.Config{
		Selectors:        []string{".call-us"},
		HideUntilSwapped: true,
		SessionTimeout:   45 * time.Minute,
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/dni/tracker.js", s.Handler())

	tag := `<script src="` + s.Src("/dni/") + `"></script>`
	fmt.Println(strings.HasPrefix(tag, `<script src="/dni/tracker.js?v=`))

	r := httptest.NewRequest("GET", s.Src("/dni/"), nil)
	r.Header.Set("Accept-Encoding", "gzip, deflate, br")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Content-Encoding"), w.Header().Get("Cache-Control"))
	// Output:
	// true
	// 200 gzip public, max-age=31536000, immutable
}

// Every invalid field is named at once.
func ExampleConfig_Validate() {
	err := tracker.Config{SessionTimeout: time.Second, HideTimeout: time.Second}.Validate()
	fmt.Println(err)
	// Output:
	// tracker: invalid config: SessionTimeout 1s is outside 1m..24h
	// tracker: invalid config: HideTimeout is set but HideUntilSwapped is off
}
