package bandwidth

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// Name is the provider name in CallEvents.
const Name = "bandwidth"

// ContentType of BXML answers.
const ContentType = "application/xml; charset=utf-8"

// DefaultVoiceAPIBase is the root of Bandwidth's Voice API, where
// recordings are served.
const DefaultVoiceAPIBase = "https://voice.bandwidth.com"

// Config configures a Provider.
type Config struct {
	// CallbackUsername and CallbackPassword are the voice application's
	// callback credentials. Required: without them anyone can post calls.
	// They are also written into the BXML callbacks calltrack asks for
	// (transfer outcome, recording), which Bandwidth authenticates with
	// the credentials given on the verb.
	CallbackUsername string
	CallbackPassword string
	// APIUsername and APIPassword are the Voice API user's credentials,
	// needed only to download recordings ([Provider.FetchRecording]):
	// Bandwidth serves recording media to the account only.
	APIUsername string
	APIPassword string
	// VoiceAPIBase is where recordings are fetched from; recordings whose
	// URL lies elsewhere are refused, so the API credentials go nowhere
	// else. Default DefaultVoiceAPIBase.
	VoiceAPIBase string
	// HTTPClient fetches recordings; default a client with a 60 s timeout.
	HTTPClient *http.Client
}

// Provider implements provider.Provider for Bandwidth Voice.
type Provider struct {
	cfg   Config
	voice *url.URL
}

var (
	_ provider.Provider         = (*Provider)(nil)
	_ provider.RecordingFetcher = (*Provider)(nil)
)

// New returns a Bandwidth provider, reporting every problem in cfg at once.
func New(cfg Config) (*Provider, error) {
	var errs []error
	if cfg.CallbackUsername == "" {
		errs = append(errs, errors.New("field CallbackUsername: required"))
	}
	if cfg.CallbackPassword == "" {
		errs = append(errs, errors.New("field CallbackPassword: required"))
	}
	if (cfg.APIUsername == "") != (cfg.APIPassword == "") {
		errs = append(errs, errors.New("field APIUsername, APIPassword: set both or neither"))
	}
	if cfg.VoiceAPIBase == "" {
		cfg.VoiceAPIBase = DefaultVoiceAPIBase
	}
	voice, err := url.Parse(strings.TrimSuffix(cfg.VoiceAPIBase, "/"))
	if err != nil || voice.Scheme == "" || voice.Host == "" {
		errs = append(errs, fmt.Errorf("field VoiceAPIBase: %q is not an absolute URL", cfg.VoiceAPIBase))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", provider.ErrInvalidConfig, errors.Join(errs...))
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	return &Provider{cfg: cfg, voice: voice}, nil
}

// Name returns "bandwidth".
func (p *Provider) Name() string { return Name }

// Verify checks the callback's basic-auth credentials.
func (p *Provider) Verify(r *provider.Request) error {
	return VerifyBasicAuth(r.Header.Get(AuthorizationHeader), p.cfg.CallbackUsername, p.cfg.CallbackPassword)
}

// Challenge is the WWW-Authenticate value to answer a callback that came
// without credentials with (401). Bandwidth sends each authenticated
// callback first without an Authorization header and only retries with
// the credentials after a 401 carrying this challenge.
func (p *Provider) Challenge() string { return Challenge }

// Challenge is the WWW-Authenticate challenge for callbacks (RFC 7617).
const Challenge = `Basic realm="calltrack", charset="UTF-8"`

// Parse reads a callback; see [ParseCallback].
func (p *Provider) Parse(r *provider.Request) (provider.CallEvent, error) {
	return ParseCallback(r.Body)
}

// RenderForward answers the initiate callback with BXML: <Hangup/> for a
// refused call, otherwise a <Transfer> (see [RenderTransfer]) whose
// callbacks carry the application's callback credentials.
func (p *Provider) RenderForward(f provider.Forward, ev provider.CallEvent) (provider.Answer, error) {
	body, err := RenderTransfer(f, ev, Credentials{Username: p.cfg.CallbackUsername, Password: p.cfg.CallbackPassword})
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: ContentType, Body: body}, nil
}

// RenderWhisper answers the transferAnswer callback with <SpeakSentence>.
func (p *Provider) RenderWhisper(text string) (provider.Answer, error) {
	body, err := provider.MarshalXML(response{SpeakSentence: &speakSentence{Text: text}})
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: ContentType, Body: body}, nil
}

// Ack answers a callback with an empty BXML document. On transferComplete
// it ends the caller's call, as Bandwidth does when no verb follows.
func (p *Provider) Ack() provider.Answer {
	return provider.Answer{ContentType: ContentType, Body: []byte(xml.Header + "<Response></Response>")}
}
