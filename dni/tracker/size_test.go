package tracker

import "testing"

// maxGzip is the budget of what a page's tag loads, tracker.js with every
// module compiled in; maxChatGzip that of the chat detection it loads
// later, once tracking starts.
const (
	maxGzip     = 6 * 1024
	maxChatGzip = 2 * 1024
)

func TestSizeBudget(t *testing.T) {
	s, err := Build(Config{})
	if err != nil {
		t.Fatal(err)
	}
	z, c := s.Sizes(), s.Chat().Sizes()
	t.Logf("tracker.js: %d bytes minified, %d gzip; %s: %d and %d", z.Min, z.Gzip, ChatFile, c.Min, c.Gzip)
	if z.Gzip > maxGzip {
		t.Errorf("tracker.js: gzip size %d bytes is over the %d-byte budget", z.Gzip, maxGzip)
	}
	if c.Gzip > maxChatGzip {
		t.Errorf("%s: gzip size %d bytes is over the %d-byte budget", ChatFile, c.Gzip, maxChatGzip)
	}
	if off, err := Build(Config{DisableChat: true}); err != nil || off.Chat() != nil {
		t.Errorf("DisableChat: chat script %v, error %v; want none", off.Chat(), err)
	}
}
