package telnyx

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/twilio"
)

// Name is the provider name in CallEvents.
const Name = "telnyx"

// Config configures a Provider.
type Config struct {
	// PublicKey verifies webhooks; see ParsePublicKey. Required.
	PublicKey ed25519.PublicKey
	// Tolerance bounds signed timestamps; default DefaultTolerance.
	Tolerance time.Duration
	// Clock defaults to time.Now.
	Clock func() time.Time
	// DefaultRegion reads numbers that are not E.164 (TeXML only).
	DefaultRegion string
	// APIKey (a v2 API key from the portal) lets the provider connect Call
	// Control calls: an inbound call.initiated is then acknowledged and the
	// caller transferred to the business line by commands (see
	// RouteCall). Without it only TeXML calls are routed.
	APIKey string
	// Voice speaks the recording notice to Call Control callers (the
	// speak command's voice: "Telnyx.<model>.<voice>", "AWS.Polly.<voice>",
	// "female", ...). Default DefaultVoice.
	Voice string
	// Language is the speak command's language ("en-US", "de-DE", ...),
	// for voices that take one. Empty sends none: Telnyx's default.
	Language string
	// WhisperAudio plays the whisper to the business line on Call Control
	// transfers, which play an audio file, not text: for each
	// Forward.Whisper text, the URL of a WAV or MP3 file speaking it
	// (the transfer's audio_url). A whisper without an entry is left out
	// of the transfer, with a warning. TeXML speaks the text itself.
	WhisperAudio map[string]string
	// Logger receives the warnings of Call Control routing; default
	// slog.Default().
	Logger *slog.Logger
	// MachineDetection turns on Telnyx's answering-machine detection on
	// the business leg of Call Control transfers, so a voicemail that
	// picks up is reported as provider.OutcomeVoicemail: "detect",
	// "premium", or any answering_machine_detection value the transfer
	// command takes. Empty (the default) leaves it off.
	MachineDetection string
	// APIBaseURL is where commands go; default DefaultAPIBaseURL.
	APIBaseURL string
	// HTTPClient sends commands; default a client with a 10 s timeout.
	HTTPClient *http.Client
}

// Provider implements provider.Provider for Telnyx Call Control and TeXML
// webhooks.
type Provider struct{ cfg Config }

// DefaultVoice speaks the recording notice when Config.Voice is empty:
// Telnyx's own text-to-speech, the voice its speak documentation shows.
const DefaultVoice = "Telnyx.KokoroTTS.af"

// New returns a Telnyx provider, or an error wrapping
// provider.ErrInvalidConfig that names every unusable field.
func New(cfg Config) (*Provider, error) {
	var errs []error
	if len(cfg.PublicKey) != ed25519.PublicKeySize {
		errs = append(errs, errors.New("field PublicKey: a 32-byte Ed25519 key is required"))
	}
	switch cfg.MachineDetection {
	case "disabled":
		cfg.MachineDetection = ""
	case "", "premium", "detect", "detect_beep", "detect_words", "greeting_end":
	default:
		errs = append(errs, fmt.Errorf("field MachineDetection: %q is not one of Telnyx's answering_machine_detection values", cfg.MachineDetection))
	}
	if cfg.APIBaseURL == "" {
		cfg.APIBaseURL = DefaultAPIBaseURL
	} else if u, err := url.Parse(cfg.APIBaseURL); err != nil || u.Scheme == "" || u.Host == "" {
		errs = append(errs, fmt.Errorf("field APIBaseURL: %q is not an absolute URL", cfg.APIBaseURL))
	}
	for _, text := range slices.Sorted(maps.Keys(cfg.WhisperAudio)) {
		if audio := cfg.WhisperAudio[text]; text == "" || !provider.WebURL(audio) {
			errs = append(errs, fmt.Errorf("field WhisperAudio[%q]: %q is not an absolute http(s) URL of the whisper's recording (WAV or MP3) for a non-empty whisper text", text, audio))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", provider.ErrInvalidConfig, errors.Join(errs...))
	}
	if cfg.Tolerance == 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Voice == "" {
		cfg.Voice = DefaultVoice
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.WhisperAudio = maps.Clone(cfg.WhisperAudio)
	return &Provider{cfg: cfg}, nil
}

// Name returns "telnyx".
func (p *Provider) Name() string { return Name }

// Verify checks the Ed25519 signature and the replay window.
func (p *Provider) Verify(r *provider.Request) error {
	return VerifySignature(p.cfg.PublicKey, r.Header.Get(SignatureHeader), r.Header.Get(TimestampHeader), r.Body, p.cfg.Clock(), p.cfg.Tolerance)
}

// Parse reads a Call Control JSON event or a TeXML form request.
func (p *Provider) Parse(r *provider.Request) (provider.CallEvent, error) {
	if isJSON(r.Body) {
		return ParseEvent(r.Body)
	}
	return ParseTeXML(r.Body, p.cfg.DefaultRegion)
}

// RenderForward answers with TeXML: <Reject> for f.Reject, otherwise a
// <Dial> whose action and recording callbacks come back to f.CallbackURL.
// Call Control applications ignore webhook response bodies and are routed
// by commands instead; see [Provider.RouteCall].
func (p *Provider) RenderForward(f provider.Forward, ev provider.CallEvent) (provider.Answer, error) {
	body, err := RenderTeXML(f, ev)
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: ContentType, Body: body}, nil
}

// RenderWhisper answers with TeXML <Say>.
func (p *Provider) RenderWhisper(text string) (provider.Answer, error) {
	body, err := twilio.RenderSay(text)
	if err != nil {
		return provider.Answer{}, err
	}
	return provider.Answer{ContentType: ContentType, Body: body}, nil
}

// Ack answers with an empty TeXML document: after a <Dial action> it ends
// the call, and Call Control ignores it.
func (p *Provider) Ack() provider.Answer {
	return provider.Answer{ContentType: ContentType, Body: twilio.EmptyResponse()}
}
