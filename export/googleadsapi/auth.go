package googleadsapi

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"golang.org/x/oauth2"
)

// Scope is the OAuth 2 scope of the Google Ads API.
const Scope = "https://www.googleapis.com/auth/adwords"

// tokens hands out access tokens: the host's TokenSource, or one refreshed
// from the configured refresh token and cached until it expires or Google
// rejects it.
type tokens struct {
	host   oauth2.TokenSource
	conf   *oauth2.Config
	client *http.Client

	mu      sync.Mutex
	refresh string
	cur     *oauth2.Token
}

func newTokens(cfg Config) *tokens {
	if cfg.TokenSource != nil {
		return &tokens{host: cfg.TokenSource}
	}
	return &tokens{
		conf: &oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: []string{Scope},
			Endpoint: oauth2.Endpoint{TokenURL: cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams}},
		client:  cfg.Client,
		refresh: cfg.RefreshToken,
	}
}

// token returns an access token other than rejected (the one Google just
// answered UNAUTHENTICATED to; "" for none). A host's TokenSource is asked
// again and must itself not hand out a token Google rejected.
func (t *tokens) token(ctx context.Context, rejected string) (string, error) {
	if t.host != nil {
		tok, err := t.host.Token()
		if err != nil {
			return "", err
		}
		return tok.AccessToken, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur != nil && t.cur.Valid() && t.cur.AccessToken != rejected {
		return t.cur.AccessToken, nil
	}
	// A fresh source holds no access token, so Token refreshes now.
	ctx = context.WithValue(ctx, oauth2.HTTPClient, t.client)
	tok, err := t.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: t.refresh}).Token()
	if err != nil {
		return "", err
	}
	if tok.AccessToken == "" {
		return "", errors.New("the token endpoint answered without an access token")
	}
	if tok.RefreshToken != "" {
		t.refresh = tok.RefreshToken // kept if Google ever rotates it
	}
	t.cur = tok
	return tok.AccessToken, nil
}
