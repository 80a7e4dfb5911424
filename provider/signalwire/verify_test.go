package signalwire_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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

// The Compatibility REST API under /api/laml: the number bought with its
// fail-safe, configured, and listed across pages whose next_page_uri is
// rooted at the space's host.
func TestNumberClient(t *testing.T) {
	const project = "446e9986-0848-4d46-a617-48793c5f5e07"
	base := "/api/laml/2010-04-01/Accounts/" + project
	var form url.Values
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+base+"/IncomingPhoneNumbers.json", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form = r.PostForm
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"sid": "b3877c40-da60-4998-90ad-b792e98472pn", "phone_number": "+18089251571", "date_created": "Thu, 30 Jul 2015 23:19:04 +0000", "voice_fallback_url": "` + r.PostForm.Get("VoiceFallbackUrl") + `"}`))
	})
	mux.HandleFunc("POST "+base+"/IncomingPhoneNumbers/{sid}", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form = r.PostForm
		w.Write([]byte(`{"sid": "pn1"}`))
	})
	mux.HandleFunc("GET "+base+"/IncomingPhoneNumbers.json", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Page") == "" {
			w.Write([]byte(`{"incoming_phone_numbers": [{"sid": "pn1", "phone_number": "+18089250001"}], "next_page_uri": "` + base + `/IncomingPhoneNumbers.json?Page=1&PageSize=1&PageToken=PA1"}`))
			return
		}
		w.Write([]byte(`{"incoming_phone_numbers": [{"sid": "pn2", "phone_number": "+18089250002"}], "next_page_uri": null}`))
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != project || p != "PTapitoken" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, err := signalwire.NewNumberClient(signalwire.NumberClientConfig{ProjectID: project, APIToken: "PTapitoken", APIBase: srv.URL + "/api/laml", HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, err := c.BuyNumber(ctx, "+18089251571", provider.BuyOptions{VoiceURL: hookURL, FallbackTo: "+12125550123", FallbackURL: "https://static.example.com/fallback.xml"})
	if err != nil || got.Number != "+18089251571" {
		t.Fatalf("BuyNumber = %+v, %v", got, err)
	}
	if form.Get("VoiceUrl") != hookURL || form.Get("VoiceFallbackUrl") != "https://static.example.com/fallback.xml" || form.Get("VoiceFallbackMethod") != "GET" {
		t.Fatalf("form sent = %v", form)
	}
	if err := c.ConfigureNumber(ctx, "pn1", provider.BuyOptions{VoiceURL: hookURL, FallbackTo: "+12125550123"}); err != nil || !strings.HasPrefix(form.Get("VoiceFallbackUrl"), twilio.TwimletForward) {
		t.Fatalf("ConfigureNumber: %v, fallback %q", err, form.Get("VoiceFallbackUrl"))
	}
	list, err := c.ListNumbers(ctx)
	if err != nil || len(list) != 2 || list[1].ID != "pn2" {
		t.Fatalf("ListNumbers = %+v, %v", list, err)
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
