package telnyx_test

import (
	"errors"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/telnyx"
)

func TestRenderTeXMLGolden(t *testing.T) {
	ev := provider.CallEvent{From: "+14158675309", To: "+18005551212"}
	cases := []struct {
		name string
		f    provider.Forward
		want string
	}{
		{"outcome and recording come back to the callback URL",
			provider.Forward{To: "+12125550123", RingTimeout: 200 * time.Second, Record: true, RecordingNotice: "This call is recorded",
				CallbackURL: "https://calls.example.com/telnyx?a=1&b=2"},
			`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Response><Say>This call is recorded</Say><Dial action="https://calls.example.com/telnyx?a=1&amp;b=2" method="POST" callerId="+18005551212" timeout="120" record="record-from-answer-dual" recordingStatusCallback="https://calls.example.com/telnyx?a=1&amp;b=2" recordingStatusCallbackMethod="POST" recordingStatusCallbackEvent="completed"><Number>+12125550123</Number></Dial></Response>`},
		{"no callback URL renders no callbacks",
			provider.Forward{To: "+12125550123"},
			`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
				`<Response><Dial callerId="+18005551212" timeout="30"><Number>+12125550123</Number></Dial></Response>`},
		{"a refused call is rejected",
			provider.Forward{Reject: true, To: "+12125550123"},
			`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response><Reject reason="rejected"></Reject></Response>`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := telnyx.RenderTeXML(tc.f, ev)
			if err != nil || string(got) != tc.want {
				t.Fatalf("RenderTeXML = %v\n%s\nwant\n%s", err, got, tc.want)
			}
		})
	}
}

func TestFallbackDocumentDialsTheBusinessLine(t *testing.T) {
	doc, err := telnyx.FallbackDocument("+12125550123")
	if err != nil {
		t.Fatal(err)
	}
	if to, _, err := parseTeXMLDial(provider.Answer{Body: doc}); err != nil || to != "+12125550123" {
		t.Fatalf("fallback dials %q (%v):\n%s", to, err, doc)
	}
	if _, err := telnyx.FallbackDocument("2125550123"); !errors.Is(err, provider.ErrInvalidForward) {
		t.Fatalf("a number that is not E.164: %v", err)
	}
}

func TestTeXMLRecordingInProgressIsIgnored(t *testing.T) {
	body := []byte("CallSid=v3:abc&RecordingSid=r1&RecordingStatus=in-progress&RecordingUrl=")
	if _, err := telnyx.ParseTeXML(body, ""); !errors.Is(err, provider.ErrIgnoredEvent) {
		t.Fatalf("in-progress recording: %v, want ErrIgnoredEvent", err)
	}
}

// A recording URL that is not a web address is not kept (the recording
// is, by its id).
func TestTeXMLRecordingKeepsOnlyAWebURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https%3A%2F%2Fapi.telnyx.com%2Fr1.mp3": "https://api.telnyx.com/r1.mp3",
		"javascript%3Aalert(1)":                 "",
		"file%3A%2F%2F%2Fetc%2Fpasswd":          "",
	} {
		ev, err := telnyx.ParseTeXML([]byte("CallSid=v3:abc&RecordingSid=r1&RecordingStatus=completed&RecordingUrl="+raw), "")
		if err != nil || ev.Recording.ID != "r1" || ev.Recording.URL != want {
			t.Errorf("RecordingUrl %s: recording %+v (%v), want id r1 and URL %q", raw, ev.Recording, err, want)
		}
	}
}

func FuzzParseTeXML(f *testing.F) {
	f.Add([]byte("CallSid=v3:abc&DialCallStatus=completed&DialCallDuration=42"))
	f.Add([]byte("CallSid=v3:abc&RecordingSid=r1&RecordingStatus=completed&RecordingDuration=5&RecordingUrl=https%3A%2F%2Fx"))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := telnyx.ParseTeXML(body, "")
		if err == nil && (ev.CallID == "" || ev.TalkTime < 0 || ev.Recording.Duration < 0 || !ev.Outcome.Valid()) {
			t.Fatalf("accepted %q as %+v", body, ev)
		}
	})
}
