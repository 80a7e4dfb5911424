package bandwidth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/attriqs/calltrack/provider"
)

// ErrNoAPICredentials is returned by FetchRecording when Config has no
// API user to download with.
var ErrNoAPICredentials = errors.New("bandwidth: field APIUsername, APIPassword: required to fetch recordings")

// FetchRecording downloads a recording's media with the Voice API
// credentials (HTTP Basic): Bandwidth's mediaUrl
// (https://voice.bandwidth.com/api/v2/accounts/{accountId}/calls/{callId}/recordings/{recordingId}/media)
// answers 401 to anyone else. Only URLs under Config.VoiceAPIBase are
// fetched, so the credentials never leave for another host. The caller
// closes the body.
func (p *Provider) FetchRecording(ctx context.Context, rec provider.Recording) (io.ReadCloser, error) {
	if p.cfg.APIUsername == "" || p.cfg.APIPassword == "" {
		return nil, ErrNoAPICredentials
	}
	u, err := url.Parse(rec.URL)
	if err != nil || rec.URL == "" {
		return nil, fmt.Errorf("bandwidth: field Recording.URL: %q is not a URL", rec.URL)
	}
	if !strings.EqualFold(u.Scheme, p.voice.Scheme) || !strings.EqualFold(u.Host, p.voice.Host) ||
		!strings.HasPrefix(u.Path, p.voice.Path+"/") || u.User != nil {
		return nil, fmt.Errorf("bandwidth: field Recording.URL: %q is not under the Voice API %s", rec.URL, p.voice)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(p.cfg.APIUsername, p.cfg.APIPassword)
	res, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("bandwidth: fetching recording %s: %w", rec.ID, err)
	}
	if res.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4<<10))
		_ = res.Body.Close()
		return nil, fmt.Errorf("bandwidth: fetching recording %s: HTTP %d", rec.ID, res.StatusCode)
	}
	return res.Body, nil
}
