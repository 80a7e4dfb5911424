package twilio_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/twilio"
)

// The vectors of Twilio's current SDK tests: twilio-python
// tests/unit/test_request_validator.py and twilio-node
// spec/validation.spec.js (token "12345", the URL below), and the worked
// example of Twilio's webhook security page
// (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
func TestSDKVectors(t *testing.T) {
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	sdkParams := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+14158675309"}, "Digits": {"1234"}, "From": {"+14158675309"}, "To": {"+18005551212"}}
	docsParams := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"}, "From": {"+12349013030"}, "To": {"+18005551212"}}
	cases := []struct {
		name   string
		url    string
		params url.Values
		sig    string
	}{
		{"SDK default", u, sdkParams, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"security page example", u, docsParams, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="},
		{"https port removed", strings.Replace(u, ".com", ".com:1234", 1), sdkParams, "RSOYDt4T1cUTdK1PDd93/VVr8B8="},
		{"http with port 1234", strings.Replace(strings.Replace(u, ".com", ".com:1234", 1), "https", "http", 1), sdkParams, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="},
		{"https signed with :443", u, sdkParams, "kvajT1Ptam85bY51eRf/AJRuM3w="},
		{"http signed with :80", strings.Replace(u, "https", "http", 1), sdkParams, "0ZXoZLH/DfblKGATFgpif+LLRf4="},
		// Keys sorted, a repeated key's values sorted and deduplicated.
		{"repeated values", u, url.Values{"Sid": {"CA123"}, "SidAccount": {"AC123"}, "Digits": {"5678", "1234", "1234"}}, "IK+Dwps556ElfBT0I3Rgjkr1wJU="},
		{"array parameter", u, url.Values{"MessagingBinding.Address": {"+1325xxxxxxx", "+1415xxxxxxx"}}, "83O6e2vORAoJHUNzJjDWN1jz+BA="},
		{"array parameter in another order", u, url.Values{"MessagingBinding.Address": {"+1415xxxxxxx", "+1325xxxxxxx"}}, "83O6e2vORAoJHUNzJjDWN1jz+BA="},
		// Signed over the URL as new URL() normalises it (' as %27).
		{"special characters in the query", u + "&Body=It's+amazing", sdkParams, "TfZzewPq8wqrGlMfyAud8+/IvJ0="},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := twilio.ValidateSignature("12345", c.url, c.params, c.sig); err != nil {
				t.Fatalf("ValidateSignature = %v", err)
			}
			r := &provider.Request{Method: http.MethodPost, URL: c.url, Header: http.Header{twilio.SignatureHeader: {c.sig}}, Body: []byte(c.params.Encode())}
			if err := twilio.ValidateRequest("12345", r, twilio.SignatureHeader); err != nil {
				t.Fatalf("ValidateRequest = %v", err)
			}
		})
	}
	if got := twilio.Sign("12345", u, url.Values{"Sid": {"CA123"}, "SidAccount": {"AC123"}, "Digits": {"5678", "1234", "1234"}}); got != "IK+Dwps556ElfBT0I3Rgjkr1wJU=" {
		t.Fatalf("Sign of repeated values = %s", got)
	}
	// An empty JSON body through bodySHA256 (twilio-node
	// "should validate request body when empty").
	empty := &provider.Request{Method: http.MethodPost, URL: u + "&bodySHA256=44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
		Header: http.Header{twilio.SignatureHeader: {"Ldidvp12m26NI7eqEvxnEpkd9Hc="}}, Body: []byte("{}")}
	if err := twilio.ValidateRequest("12345", empty, twilio.SignatureHeader); err != nil {
		t.Fatalf("empty JSON body: %v", err)
	}
	// The SDKs compare the hash byte for byte.
	upper := *empty
	upper.URL = strings.ToUpper(strings.TrimPrefix(empty.URL, "https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256="))
	upper.URL = u + "&bodySHA256=" + upper.URL
	upper.Header = http.Header{twilio.SignatureHeader: {twilio.Sign("12345", upper.URL, nil)}}
	if err := twilio.ValidateRequest("12345", &upper, twilio.SignatureHeader); !errors.Is(err, provider.ErrBodyHashMismatch) {
		t.Fatalf("upper-case hash: %v, want ErrBodyHashMismatch", err)
	}
}

// TestLegacyQuerystring: twilio-node also tries the URL with its query
// re-encoded by Node's querystring (parse then stringify). No published
// vector covers it; this one is computed by that algorithm: '+' decodes
// to a space that re-encodes as %20, a repeated key is grouped at its first
// place, and ! ' ( ) * ~ stay as they are.
func TestLegacyQuerystring(t *testing.T) {
	sent := "https://x.example.com/hook?b=1&a=hello+world&b=2&c=%7e!"
	signedOver := "https://x.example.com/hook?b=1&b=2&a=hello%20world&c=~!"
	sig := twilio.Sign("tok", signedOver, nil)
	if err := twilio.ValidateSignature("tok", sent, nil, sig); err != nil {
		t.Fatalf("ValidateSignature = %v", err)
	}
	if err := twilio.ValidateCompatRequest("tok", &provider.Request{Method: http.MethodGet, URL: sent, Header: http.Header{}}, sig); !errors.Is(err, provider.ErrBadSignature) {
		t.Fatalf("SignalWire's SDK does not re-encode: %v", err)
	}
}

// TestValuesAsSent: SignalWire's compatibility SDK writes a repeated
// parameter's values in the order sent; the vector is computed by that
// algorithm.
func TestValuesAsSent(t *testing.T) {
	const u = "https://mycompany.com/myapp.php?foo=1&bar=2"
	body := "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234"
	params, _ := url.ParseQuery(body)
	asSent := twilio.SignAsSent("12345", u, params)
	if asSent == "IK+Dwps556ElfBT0I3Rgjkr1wJU=" {
		t.Fatal("as-sent and sorted-unique signatures must differ for this body")
	}
	r := &provider.Request{Method: http.MethodPost, URL: u, Body: []byte(body)}
	if err := twilio.ValidateCompatRequest("12345", r, asSent); err != nil {
		t.Fatalf("as sent: %v", err)
	}
	if err := twilio.ValidateCompatRequest("12345", r, "IK+Dwps556ElfBT0I3Rgjkr1wJU="); !errors.Is(err, provider.ErrBadSignature) {
		t.Fatalf("sorted and deduplicated under SignalWire's rule: %v, want ErrBadSignature", err)
	}
}
