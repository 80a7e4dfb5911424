package providertest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/attriqs/calltrack/provider"
)

// markup is whisper text full of characters that XML and JSON answers
// must escape.
const markup = `Call from "Ads" <&>`

func (s *suite) forwardShowsTheTrackingNumber(t *testing.T) {
	s.forward(t, false, sample.To)
}

func (s *suite) forwardWithPassthroughShowsTheCaller(t *testing.T) {
	s.forward(t, true, sample.From)
}

// forward renders a forward with a whisper full of markup, checks the
// answer is well-formed, and reads back whom it dials and as whom.
func (s *suite) forward(t *testing.T, passthrough bool, wantCallerID string) {
	t.Helper()
	ev, err := s.fx.Provider.Parse(s.signed(s.fx.Inbound(sample)))
	if err != nil {
		t.Fatal(err)
	}
	f := provider.Forward{To: "+12125550123", CallerIDPassthrough: passthrough, Whisper: markup, WhisperURL: "https://example.com/w?a=1&b=2"}
	ans, err := s.fx.Provider.RenderForward(f, ev)
	if err != nil {
		t.Fatalf("RenderForward = %v", err)
	}
	wellFormed(t, ans)
	to, cid, err := s.fx.ParseForward(ans)
	if err != nil {
		t.Fatalf("ParseForward = %v\n%s", err, ans.Body)
	}
	if to != f.To || cid != wantCallerID {
		t.Fatalf("passthrough=%v: dialled %q as %q, want %q as %q\n%s", passthrough, to, cid, f.To, wantCallerID, ans.Body)
	}
}

func (s *suite) whisperAnswerIsWellFormed(t *testing.T) {
	w, err := s.fx.Provider.RenderWhisper(markup)
	if err != nil {
		t.Fatal(err)
	}
	wellFormed(t, w)
}

func (s *suite) recordingWithoutANoticeIsRefused(t *testing.T) {
	ev, _ := s.fx.Provider.Parse(s.signed(s.fx.Inbound(sample)))
	_, err := s.fx.Provider.RenderForward(provider.Forward{To: "+12125550123", Record: true}, ev)
	if !errors.Is(err, provider.ErrInvalidForward) {
		t.Fatalf("RenderForward = %v, want ErrInvalidForward", err)
	}
}

func (s *suite) recordingPlaysTheNotice(t *testing.T) {
	ev, _ := s.fx.Provider.Parse(s.signed(s.fx.Inbound(sample)))
	ans, err := s.fx.Provider.RenderForward(provider.Forward{To: "+12125550123", Record: true, RecordingNotice: "This call is recorded"}, ev)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ans.Body, []byte("This call is recorded")) {
		t.Fatalf("caller notice missing from answer:\n%s", ans.Body)
	}
}

func (s *suite) recordingIsOffUnlessAskedFor(t *testing.T) {
	ev, _ := s.fx.Provider.Parse(s.signed(s.fx.Inbound(sample)))
	off, err := s.fx.Provider.RenderForward(provider.Forward{To: "+12125550123"}, ev)
	if err != nil {
		t.Fatal(err)
	}
	on, err := s.fx.Provider.RenderForward(provider.Forward{To: "+12125550123", Record: true, RecordingNotice: "NOTICE-TEXT"}, ev)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(off.Body, on.Body) || bytes.Contains(off.Body, []byte("NOTICE-TEXT")) {
		t.Fatalf("default answer must not record:\n%s", off.Body)
	}
}

func wellFormed(t *testing.T, a provider.Answer) {
	t.Helper()
	switch {
	case strings.Contains(a.ContentType, "xml"):
		d := xml.NewDecoder(bytes.NewReader(a.Body))
		for {
			_, err := d.Token()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("answer is not well-formed XML: %v\n%s", err, a.Body)
			}
		}
	case strings.Contains(a.ContentType, "json"):
		if !json.Valid(a.Body) {
			t.Fatalf("answer is not valid JSON:\n%s", a.Body)
		}
	default:
		t.Fatalf("answer has unexpected content type %q", a.ContentType)
	}
}
