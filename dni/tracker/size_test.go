package tracker

import "testing"

// maxGzip is issue 8's budget for the whole tracker, modules included.
const maxGzip = 6 * 1024

func TestSizeBudget(t *testing.T) {
	s, err := Build(Config{})
	if err != nil {
		t.Fatal(err)
	}
	z := s.Sizes()
	t.Logf("tracker.js: %d bytes minified, %d gzip", z.Min, z.Gzip)
	if z.Gzip > maxGzip {
		t.Errorf("gzip size %d bytes is over the %d-byte budget", z.Gzip, maxGzip)
	}
}
