package signalwire_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/signalwire"
	"github.com/attriqs/calltrack/provider/twilio"
)

// The compatibility SDK's own test vector (compatibility-api-js
// spec/validation.spec.js): token "12345", this URL and these parameters.
func TestCompatibilitySDKVector(t *testing.T) {
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	body := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"}, "From": {"+14158675309"}, "To": {"+18005551212"}}.Encode()
	for _, c := range []struct{ name, url, sig string }{
		{"default", u, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"https port stripped", strings.Replace(u, ".com", ".com:1234", 1), "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"http with port", strings.Replace(strings.Replace(u, ".com", ".com:1234", 1), "https", "http", 1), "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="},
		{"json body via bodySHA256", u + "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620", "a9nBmqA0ju/hNViExpshrM61xv4="},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &provider.Request{Method: http.MethodPost, URL: c.url, Header: header(signalwire.SignatureHeader, c.sig), Body: []byte(body)}
			if strings.Contains(c.url, "bodySHA256") {
				r.Body = []byte(`{"property": "value", "boolean": true}`)
			}
			if err := signalwire.Verify("12345", r); err != nil {
				t.Fatalf("Verify = %v", err)
			}
		})
	}
}

// SignalWire's own scheme, as its RELAY SDK's WebAPI.validateRequest
// checks it: hex(HMAC-SHA1(signing key, URL + raw body)). No published
// vector; these are computed by that algorithm.
func TestOwnSchemeForJSONBodies(t *testing.T) {
	body := []byte(`{"call":{"call_id":"b3877c40","from":"+14158675309","to":"+18005551212"},"event_type":"calling.call.state"}`)
	sig := signalwire.SignBody(signingKey, hookURL, body)
	if len(sig) != 40 {
		t.Fatalf("SignBody = %q, want 40 hex digits", sig)
	}
	cases := []struct {
		name   string
		header string
		url    string
		body   []byte
		sig    string
		want   error
	}{
		{"own header", signalwire.SignatureHeader, hookURL, body, sig, nil},
		{"Twilio header", twilio.SignatureHeader, hookURL, body, sig, nil},
		{"tampered body", signalwire.SignatureHeader, hookURL, []byte(strings.Replace(string(body), "8675309", "8675308", 1)), sig, provider.ErrBadSignature},
		{"another URL", signalwire.SignatureHeader, hookURL + "?x=1", body, sig, provider.ErrBadSignature},
		{"another key", signalwire.SignatureHeader, hookURL, body, signalwire.SignBody("wrong-key", hookURL, body), provider.ErrBadSignature},
		{"no signature", signalwire.SignatureHeader, hookURL, body, "", provider.ErrMissingSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &provider.Request{Method: http.MethodPost, URL: c.url, Header: header(c.header, c.sig), Body: c.body}
			if err := signalwire.Verify(signingKey, r); !errors.Is(err, c.want) || (c.want == nil && err != nil) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

// Repeated form keys are signed with their values in the order sent, as
// the compatibility SDK does; computed by its algorithm.
func TestRepeatedKeysInTheOrderSent(t *testing.T) {
	body := "CallSid=c1&Digits=5678&Digits=1234&Digits=1234"
	params, _ := url.ParseQuery(body)
	r := &provider.Request{Method: http.MethodPost, URL: hookURL, Header: http.Header{}, Body: []byte(body)}
	r.Header.Set(signalwire.SignatureHeader, signalwire.Sign(signingKey, hookURL, params))
	if err := signalwire.Verify(signingKey, r); err != nil {
		t.Fatalf("in the order sent: %v", err)
	}
	r.Header.Set(signalwire.SignatureHeader, twilio.Sign(signingKey, hookURL, params))
	if err := signalwire.Verify(signingKey, r); !errors.Is(err, provider.ErrBadSignature) {
		t.Fatalf("sorted and deduplicated (Twilio's rule): %v, want ErrBadSignature", err)
	}
}

func TestRenderHasNoVoicemailDetection(t *testing.T) {
	p, _ := signalwire.New(signalwire.Config{SigningKey: signingKey})
	a, err := p.RenderForward(provider.Forward{To: "+12125550123", CallbackURL: hookURL}, provider.CallEvent{CallID: "c1", To: "+18005551212"})
	if err != nil || !strings.Contains(string(a.Body), `action="`+hookURL+`"`) || strings.Contains(string(a.Body), "machineDetection") {
		t.Fatalf("RenderForward = %s, %v; want <Dial action> without machine detection", a.Body, err)
	}
}

func TestNewNumberClientNamesEveryField(t *testing.T) {
	_, err := signalwire.NewNumberClient(signalwire.NumberClientConfig{Space: "example.signalwire.com"})
	for _, field := range []string{"Space", "ProjectID", "APIToken"} {
		if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "field "+field) {
			t.Fatalf("err = %v; want ErrInvalidConfig naming %s", err, field)
		}
	}
}

func header(name, value string) http.Header {
	h := http.Header{}
	h.Set(name, value)
	return h
}
