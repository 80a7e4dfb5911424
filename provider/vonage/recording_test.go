package vonage_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/vonage"
)

// toServer sends every request to srv, keeping the path: the recording
// URL stays on Vonage's host, as FetchRecording requires.
type toServer struct{ srv *httptest.Server }

func (t toServer) RoundTrip(r *http.Request) (*http.Response, error) {
	u, _ := url.Parse(t.srv.URL)
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = u.Scheme, u.Host
	return t.srv.Client().Transport.RoundTrip(r)
}

// The stand-in checks what Vonage checks: an RS256 JWT that the
// application's public key verifies, naming the application, not
// expired.
func TestFetchRecordingSignsAnApplicationJWT(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	const appID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		parts := strings.Split(token, ".")
		if len(parts) != 3 || r.URL.Path != "/v1/files/bbbbbbbb-aaaa-cccc-dddd-0123456789ab" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		header, _ := base64.RawURLEncoding.DecodeString(parts[0])
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims struct {
			ApplicationID string `json:"application_id"`
			IssuedAt      int64  `json:"iat"`
			ExpiresAt     int64  `json:"exp"`
			ID            string `json:"jti"`
		}
		_ = json.Unmarshal(raw, &claims)
		if rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig) != nil || !strings.Contains(string(header), `"RS256"`) ||
			claims.ApplicationID != appID || claims.ID == "" || claims.IssuedAt != now.Unix() || claims.ExpiresAt <= now.Unix() {
			http.Error(w, `{"title":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "ID3 audio")
	}))
	defer srv.Close()
	client := &http.Client{Transport: toServer{srv}}
	p, err := vonage.New(vonage.Config{SignatureSecret: secret, ApplicationID: appID, PrivateKey: pemKey, HTTPClient: client, Clock: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	rec := provider.Recording{ID: "r1", URL: "https://api.nexmo.com/v1/files/bbbbbbbb-aaaa-cccc-dddd-0123456789ab"}
	body, err := p.FetchRecording(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	audio, _ := io.ReadAll(body)
	body.Close()
	if string(audio) != "ID3 audio" {
		t.Fatalf("audio = %q", audio)
	}

	// The token goes to Vonage's hosts only, over HTTPS.
	for _, u := range []string{"https://media.example.com/v1/files/x", "http://api.nexmo.com/v1/files/x", "https://api.nexmo.com.example.com/x"} {
		if _, err := p.FetchRecording(context.Background(), provider.Recording{ID: "r1", URL: u}); err == nil {
			t.Errorf("fetched %s", u)
		}
	}
	// Another application's key is refused by the stand-in.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherDER := x509.MarshalPKCS1PrivateKey(other)
	q, _ := vonage.New(vonage.Config{SignatureSecret: secret, ApplicationID: appID, PrivateKey: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: otherDER}), HTTPClient: client, Clock: func() time.Time { return now }})
	if _, err := q.FetchRecording(context.Background(), rec); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("another key: %v, want HTTP 401", err)
	}
}

func TestFetchRecordingWithoutAKeyNamesTheField(t *testing.T) {
	p, _ := vonage.New(vonage.Config{SignatureSecret: secret})
	_, err := p.FetchRecording(context.Background(), provider.Recording{URL: "https://api.nexmo.com/v1/files/x"})
	if !errors.Is(err, provider.ErrInvalidConfig) || !strings.Contains(err.Error(), "field PrivateKey") {
		t.Fatalf("err = %v, want ErrInvalidConfig naming PrivateKey", err)
	}
}
