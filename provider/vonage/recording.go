package vonage

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// ApplicationTokenTTL is the lifetime of the application JWTs
// FetchRecording signs, Vonage's SDK default.
const ApplicationTokenTTL = 15 * time.Minute

// FetchRecording downloads a recording from its recording_url with an
// application JWT (RS256 over application_id, iat, jti and exp, signed
// with Config.PrivateKey), as Vonage requires: its recording URLs refuse
// a plain GET. Like Vonage's Python SDK it sends the token only to
// Vonage's own hosts (nexmo.com, vonage.com), over HTTPS.
func (p *Provider) FetchRecording(ctx context.Context, rec provider.Recording) (io.ReadCloser, error) {
	if p.key == nil {
		return nil, fmt.Errorf("%w: field PrivateKey: required to download recordings (Vonage serves them only to a JWT signed with the application's private key)", provider.ErrInvalidConfig)
	}
	u, err := url.Parse(rec.URL)
	if err != nil || u.Scheme != "https" || !vonageHost(u.Hostname()) {
		return nil, fmt.Errorf("vonage: recording URL %q is not an https URL on a Vonage host", rec.URL)
	}
	token, err := ApplicationToken(p.key, p.cfg.ApplicationID, p.cfg.Clock())
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("vonage: fetching recording %s: %w", rec.ID, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		resp.Body.Close()
		return nil, fmt.Errorf("vonage: fetching recording %s: HTTP %d: %s", rec.ID, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return resp.Body, nil
}

func vonageHost(h string) bool {
	h = strings.ToLower(h)
	for _, d := range []string{"nexmo.com", "vonage.com"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// ApplicationToken signs the JWT Vonage's APIs take from an application:
// RS256, claims application_id, iat (now), a random jti and exp (now +
// ApplicationTokenTTL).
func ApplicationToken(key *rsa.PrivateKey, applicationID string, now time.Time) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	claims, err := json.Marshal(struct {
		ApplicationID string `json:"application_id"`
		IssuedAt      int64  `json:"iat"`
		ID            string `json:"jti"`
		ExpiresAt     int64  `json:"exp"`
	}{applicationID, now.Unix(), hex.EncodeToString(jti), now.Add(ApplicationTokenTTL).Unix()})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return input + "." + enc.EncodeToString(sig), nil
}

// parsePrivateKey reads the PEM key Vonage generates for an application
// (PKCS #8, "PRIVATE KEY"), or a PKCS #1 "RSA PRIVATE KEY".
func parsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("not a PEM private key")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not an RSA private key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA private key")
	}
	return rk, nil
}
