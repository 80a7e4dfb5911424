package telnyx_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/telnyx"
)

// The fixture key is RFC 8032 section 7.1 TEST 1; checking its published
// signature of the empty message pins the key material the tests use.
var (
	rfcSeed, _ = hex.DecodeString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
	privateKey = ed25519.NewKeyFromSeed(rfcSeed)
	publicKey  = privateKey.Public().(ed25519.PublicKey)
	otherKey   = ed25519.NewKeyFromSeed(make([]byte, 32))
	now        = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func TestRFC8032Key(t *testing.T) {
	const wantPub = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
	const wantSig = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
	if hex.EncodeToString(publicKey) != wantPub || hex.EncodeToString(ed25519.Sign(privateKey, nil)) != wantSig {
		t.Fatal("fixture key does not match RFC 8032 TEST 1")
	}
}

// The payload of Telnyx's own SDK webhook test (telnyx-python
// tests/test_webhook.py DUMMY_WEBHOOK_PAYLOAD), a v1 call_initiated event:
// the v2 parser must reject it cleanly rather than misread it.
const sdkSamplePayload = `{
    "record_type": "event",
    "id": "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
    "event_type": "call_initiated",
    "created_at": "2018-02-02T22:25:27.521992Z",
    "payload": {
        "to": "+13129457420",
        "from": "+35319605860",
        "call_control_id": "AgDIxmoRX6QMuaIj_uXRXnPAXP0QlNfXczRrZvZakpWxBlpw48KyZQ==",
        "call_leg_id": "428c31b6-7af4-4bcb-b7f5-5013ef9657c1",
        "direction": "incoming",
        "state": "parked"
    }
}`

func TestSDKSamplePayloadSignsAndIsNotV2(t *testing.T) {
	sig, ts := telnyx.Sign(privateKey, []byte(sdkSamplePayload), now)
	if err := telnyx.VerifySignature(publicKey, sig, ts, []byte(sdkSamplePayload), now, telnyx.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	if _, err := telnyx.ParseEvent([]byte(sdkSamplePayload)); !errors.Is(err, provider.ErrMalformedPayload) {
		t.Fatalf("ParseEvent(v1 payload) = %v, want ErrMalformedPayload", err)
	}
}

func TestVerifySignatureErrors(t *testing.T) {
	body := []byte(`{"data":{}}`)
	sig, ts := telnyx.Sign(privateKey, body, now)
	cases := []struct {
		name    string
		key     ed25519.PublicKey
		sig, ts string
		body    []byte
		at      time.Time
		want    error
	}{
		{"valid", publicKey, sig, ts, body, now, nil},
		{"no key", nil, sig, ts, body, now, provider.ErrNoSecret},
		{"no signature", publicKey, "", ts, body, now, provider.ErrMissingSignature},
		{"no timestamp", publicKey, sig, "", body, now, provider.ErrMissingTimestamp},
		{"signature not base64", publicKey, "@@", ts, body, now, provider.ErrMalformedSignature},
		{"signature wrong length", publicKey, base64.StdEncoding.EncodeToString([]byte("short")), ts, body, now, provider.ErrMalformedSignature},
		{"timestamp not a number", publicKey, sig, "noon", body, now, provider.ErrMalformedSignature},
		{"timestamp swapped", publicKey, sig, fmt.Sprint(now.Unix() + 1), body, now, provider.ErrBadSignature},
		{"body tampered", publicKey, sig, ts, []byte(`{"data":{"x":1}}`), now, provider.ErrBadSignature},
		{"replayed after tolerance", publicKey, sig, ts, body, now.Add(6 * time.Minute), provider.ErrStaleTimestamp},
		{"from the future", publicKey, sig, ts, body, now.Add(-6 * time.Minute), provider.ErrStaleTimestamp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := telnyx.VerifySignature(c.key, c.sig, c.ts, c.body, c.at, telnyx.DefaultTolerance)
			if !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

func TestParsePublicKey(t *testing.T) {
	if k, err := telnyx.ParsePublicKey(base64.StdEncoding.EncodeToString(publicKey)); err != nil || !k.Equal(publicKey) {
		t.Fatalf("raw key: %v", err)
	}
	// SubjectPublicKeyInfo prefix for Ed25519 followed by the raw key.
	spki := append([]byte{0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00}, publicKey...)
	if k, err := telnyx.ParsePublicKey(base64.StdEncoding.EncodeToString(spki)); err != nil || !k.Equal(publicKey) {
		t.Fatalf("SPKI key: %v", err)
	}
	if _, err := telnyx.ParsePublicKey("not-base64!"); !errors.Is(err, provider.ErrInvalidConfig) {
		t.Fatalf("err = %v", err)
	}
}

// event renders a Call Control v2 webhook in the documented envelope.
func event(c providertest.Call, eventType, extra string) *provider.Request {
	body := fmt.Sprintf(`{"data":{"event_type":%q,"id":"0ccc7b54-4df3-4bca-a65a-3da1ecc777f0","occurred_at":"2026-03-01T12:00:00.000000Z",`+
		`"payload":{"call_control_id":"v3:AgDIxmoRX6QMuaIj","call_leg_id":%q,"call_session_id":"428c31b6-abf3-3bc1-b7f4-5013ef9657c1",`+
		`"client_state":null,"connection_id":"7267xxxxxxxxxxxxxx","direction":"incoming","from":%q,"to":%q,"state":"parked",`+
		`"start_time":"2026-03-01T12:00:00.000000Z"%s},"record_type":"event"},"meta":{"attempt":1,"delivered_to":"https://calls.example.com/calltrack/telnyx"}}`,
		eventType, c.ID, c.From, c.To, extra)
	return &provider.Request{Method: http.MethodPost, URL: "https://calls.example.com/calltrack/telnyx", Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)}
}

func signer(key ed25519.PrivateKey) func(*provider.Request, time.Time) {
	return func(r *provider.Request, at time.Time) {
		sig, ts := telnyx.Sign(key, r.Body, at)
		r.Header.Set(telnyx.SignatureHeader, sig)
		r.Header.Set(telnyx.TimestampHeader, ts)
	}
}

// forwardState is the client_state RouteCall puts on a transfer, as
// Telnyx echoes it: base64 of {"calltrack_parent":<caller's leg id>}.
func forwardState(parent string) string {
	return base64.StdEncoding.EncodeToString([]byte(`{"calltrack_parent":"` + parent + `"}`))
}

// legEvent renders an event of the business leg a transfer of c dialled:
// its own leg id, direction outgoing, the transfer's client_state.
func legEvent(c providertest.Call, eventType, extra string) *provider.Request {
	r := event(providertest.Call{ID: c.ID + "-b", From: c.To, To: "+12125550123"}, eventType,
		fmt.Sprintf(`,"client_state":%q%s`, forwardState(c.ID), extra))
	r.Body = bytes.Replace(r.Body, []byte(`"client_state":null,`), nil, 1)
	r.Body = bytes.Replace(r.Body, []byte(`"direction":"incoming"`), []byte(`"direction":"outgoing"`), 1)
	return r
}

// legHangups are the hangup_cause values of the business leg's
// call.hangup for each outcome Call Control reports in one event.
var legHangups = map[provider.Outcome]string{
	provider.OutcomeNoAnswer:  "timeout",
	provider.OutcomeBusy:      "user_busy",
	provider.OutcomeAbandoned: "originator_cancel",
	provider.OutcomeFailed:    "not_found",
}

// recordingSaved renders call.recording.saved for the transfer of c.
// recording_id is read when present (Telnyx names it on the transfer's
// answer when record is set; the SDKs' webhook type does not list it).
func recordingSaved(c providertest.Call, rec provider.Recording) *provider.Request {
	start := now.Add(5 * time.Second)
	return legEvent(c, "call.recording.saved", fmt.Sprintf(
		`,"recording_id":%q,"channels":"dual","recording_started_at":%q,"recording_ended_at":%q,"recording_urls":{"mp3":%q,"wav":null},"public_recording_urls":{}`,
		rec.ID, start.Format(time.RFC3339Nano), start.Add(rec.Duration).Format(time.RFC3339Nano), rec.URL+"?X-Amz-Expires=600"))
}

// TestConformanceCallControl runs the suite against the provider with an
// API key, routing by command: the Handler's cases send the transfer, and
// the render cases read the commands RouteCall sends (see commandMode),
// recording's notice included.
func TestConformanceCallControl(t *testing.T) {
	p, forwards := newCommandMode(t)
	providertest.Run(t, providertest.Fixture{
		Provider: p,
		Now:      now,
		Inbound:  forwards.inbound,
		Status: func(c providertest.Call, st provider.Status, talk time.Duration) *provider.Request {
			hangup := func(cause string) *provider.Request {
				end := now.Add(talk).Format(time.RFC3339Nano)
				return event(c, "call.hangup", fmt.Sprintf(`,"end_time":%q,"hangup_cause":%q,"hangup_source":"caller","sip_hangup_cause":"200"`, end, cause))
			}
			switch st {
			case provider.StatusInProgress:
				return event(c, "call.answered", "")
			case provider.StatusCompleted:
				return hangup("normal_clearing")
			case provider.StatusBusy:
				return hangup("user_busy")
			case provider.StatusNoAnswer:
				return hangup("timeout")
			}
			return nil // Call Control has no ringing callback for inbound legs
		},
		Outcome: func(c providertest.Call, _ string, o provider.Outcome, talk time.Duration) *provider.Request {
			cause, ok := legHangups[o]
			if !ok {
				// An answered leg's talk time spans two events (its
				// call.answered and call.hangup); no one event reports it.
				// TestCallControlOutcomesThroughTheHandler covers answers.
				return nil
			}
			return legEvent(c, "call.hangup", fmt.Sprintf(`,"hangup_cause":%q,"hangup_source":"callee","sip_hangup_cause":"487"`, cause))
		},
		Recording: func(c providertest.Call, _ string, rec provider.Recording) *provider.Request {
			return recordingSaved(c, rec)
		},
		Sign:             signer(privateKey),
		SignWrongSecret:  signer(otherKey),
		SignatureHeaders: []string{telnyx.SignatureHeader, telnyx.TimestampHeader},
		ParseForward:     forwards.parse,
	}, providertest.Features{Timestamped: true, Tolerance: telnyx.DefaultTolerance, NoRingingCallback: true})
}

// texmlRequest is a TeXML webhook: Twilio's form parameters, signed by
// Telnyx as every webhook is.
func texmlRequest(v url.Values) *provider.Request {
	return &provider.Request{Method: http.MethodPost, URL: "https://calls.example.com/calltrack/telnyx-texml",
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, Body: []byte(v.Encode())}
}

func texmlForm(c providertest.Call, status string) url.Values {
	return url.Values{"AccountSid": {"cb6cfbbc-eb00-41af-a3f3-0d7b32009e4b"}, "CallSid": {c.ID}, "CallSidLegacy": {c.ID},
		"CallStatus": {status}, "Direction": {"inbound"}, "From": {c.From}, "To": {c.To}}
}

// texmlDialStatuses are DialCallStatus values of <Dial action>.
var texmlDialStatuses = map[provider.Outcome]string{
	provider.OutcomeAnswered:  "completed",
	provider.OutcomeNoAnswer:  "no-answer",
	provider.OutcomeBusy:      "busy",
	provider.OutcomeAbandoned: "canceled",
	provider.OutcomeFailed:    "failed",
}

func TestConformanceTeXML(t *testing.T) {
	p, err := telnyx.New(telnyx.Config{PublicKey: publicKey, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	providertest.Run(t, providertest.Fixture{
		Provider: p,
		Now:      now,
		Inbound:  func(c providertest.Call) *provider.Request { return texmlRequest(texmlForm(c, "ringing")) },
		Status: func(c providertest.Call, st provider.Status, talk time.Duration) *provider.Request {
			v := texmlForm(c, string(st))
			v.Set("CallbackSource", "call-progress-events")
			if st == provider.StatusCompleted {
				v.Set("CallDuration", fmt.Sprint(int(talk.Seconds())))
			}
			return texmlRequest(v)
		},
		Outcome: func(c providertest.Call, _ string, o provider.Outcome, talk time.Duration) *provider.Request {
			st, ok := texmlDialStatuses[o]
			if !ok {
				return nil // <Dial> runs no machine detection
			}
			v := texmlForm(c, "in-progress")
			v.Set("DialCallStatus", st)
			v.Set("DialCallDuration", fmt.Sprint(int(talk.Seconds())))
			return texmlRequest(v)
		},
		Recording: func(c providertest.Call, _ string, rec provider.Recording) *provider.Request {
			// The documented TexmlRecordingCompletedWebhook fields.
			return texmlRequest(url.Values{"AccountSid": {"cb6cfbbc-eb00-41af-a3f3-0d7b32009e4b"}, "CallSid": {c.ID},
				"ConnectionId": {"1234567890"}, "RecordingChannels": {"2"}, "RecordingDuration": {fmt.Sprint(int(rec.Duration.Seconds()))},
				"RecordingSid": {rec.ID}, "RecordingSource": {"DialVerb"}, "RecordingStatus": {"completed"}, "RecordingUrl": {rec.URL}})
		},
		Sign:             signer(privateKey),
		SignWrongSecret:  signer(otherKey),
		SignatureHeaders: []string{telnyx.SignatureHeader, telnyx.TimestampHeader},
		ParseForward:     parseTeXMLDial,
	}, providertest.Features{Timestamped: true, Tolerance: telnyx.DefaultTolerance})
}

// parseTeXMLDial reads a rendered <Dial> back: the number and caller id.
func parseTeXMLDial(a provider.Answer) (to, callerID string, err error) {
	var r struct {
		Dial *struct {
			CallerID string `xml:"callerId,attr"`
			Number   string `xml:"Number"`
		} `xml:"Dial"`
	}
	if err := xml.Unmarshal(a.Body, &r); err != nil {
		return "", "", err
	}
	if r.Dial == nil {
		return "", "", provider.ErrMalformedPayload
	}
	return r.Dial.Number, r.Dial.CallerID, nil
}

func TestParseIgnoresOtherEventsAndReadsTeXML(t *testing.T) {
	p, _ := telnyx.New(telnyx.Config{PublicKey: publicKey})
	c := providertest.Call{ID: "leg-1", From: "+14158675309", To: "+18005551212"}
	if _, err := p.Parse(event(c, "call.dtmf.received", "")); !errors.Is(err, provider.ErrIgnoredEvent) {
		t.Fatalf("dtmf event: %v, want ErrIgnoredEvent", err)
	}
	texml := &provider.Request{Body: []byte("CallSid=v3:abc&CallStatus=ringing&From=%2B14158675309&To=%2B18005551212&Direction=inbound&AccountSid=acc")}
	ev, err := p.Parse(texml)
	if err != nil || ev.Provider != telnyx.Name || ev.Kind != provider.KindInbound || ev.CallID != "v3:abc" || ev.From != c.From {
		t.Fatalf("TeXML parse = %+v, %v", ev, err)
	}
}

func FuzzVerifySignature(f *testing.F) {
	body := event(providertest.Call{ID: "a", From: "+14158675309", To: "+18005551212"}, "call.initiated", "").Body
	sig, ts := telnyx.Sign(privateKey, body, now)
	f.Add(sig, ts, body)
	f.Fuzz(func(t *testing.T, sig, ts string, body []byte) {
		_ = telnyx.VerifySignature(publicKey, sig, ts, body, now, telnyx.DefaultTolerance)
	})
}

func FuzzParseEvent(f *testing.F) {
	c := providertest.Call{ID: "a", From: "+14158675309", To: "+18005551212"}
	f.Add(event(c, "call.initiated", "").Body)
	f.Add(event(c, "call.hangup", `,"end_time":"2026-03-01T12:01:00Z","hangup_cause":"normal_clearing"`).Body)
	f.Add([]byte(sdkSamplePayload))
	notice := base64.StdEncoding.EncodeToString([]byte(`{"calltrack_parent":"a","notice":true,"from":"+14158675309","to":"+18005551212"}`))
	f.Add(stepEvent(c, "call.speak.ended", notice, `,"status":"completed"`).Body)
	f.Add(stepEvent(c, "call.answered", notice, "").Body)
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := telnyx.ParseEvent(body)
		if err == nil && (ev.CallID == "" || ev.Duration < 0) {
			t.Fatalf("accepted %q as %+v", body, ev)
		}
	})
}

// Telnyx's SDKs (telnyx-python lib/webhook_verification.py, telnyx-node
// src/lib/webhooks.ts) refuse |floor(now) − timestamp| > 300 s: whole
// seconds, so 300.9 s is still accepted and 301 s is not.
func TestToleranceIsComparedInWholeSecondsAsTheSDKsDo(t *testing.T) {
	body := []byte(`{"data":{}}`)
	sig, ts := telnyx.Sign(privateKey, body, now)
	cases := []struct {
		at   time.Time
		want error
	}{
		{now.Add(300*time.Second + 900*time.Millisecond), nil},
		{now.Add(-300 * time.Second), nil},
		{now.Add(301 * time.Second), provider.ErrStaleTimestamp},
		{now.Add(-301 * time.Second), provider.ErrStaleTimestamp},
	}
	for _, c := range cases {
		if err := telnyx.VerifySignature(publicKey, sig, ts, body, c.at, telnyx.DefaultTolerance); !errors.Is(err, c.want) && !(c.want == nil && err == nil) {
			t.Errorf("at %s: %v, want %v", c.at.Sub(now), err, c.want)
		}
	}
	// A genuine signature over an absurd timestamp is stale, not accepted
	// through arithmetic overflow.
	huge := "9223372036854775807"
	sigHuge := base64.StdEncoding.EncodeToString(ed25519.Sign(privateKey, append([]byte(huge+"|"), body...)))
	if err := telnyx.VerifySignature(publicKey, sigHuge, huge, body, now, telnyx.DefaultTolerance); !errors.Is(err, provider.ErrStaleTimestamp) {
		t.Fatalf("timestamp %s: %v", huge, err)
	}
}
