package providertest

import (
	"bytes"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// Call identifies a sample call in fixtures.
type Call struct {
	ID   string
	From string // E.164
	To   string // E.164, the tracking number
}

// Fixture is what a vendor's test gives the suite: the adapter, how to
// sign a request for it, and the vendor's sample webhooks. Every field but
// Tamper is required.
type Fixture struct {
	// Provider is the adapter under test, verifying with the secret Sign
	// uses and reading time from a clock that returns Now.
	Provider provider.Provider
	Now      time.Time
	// Inbound builds an unsigned inbound-call webhook for c in the
	// vendor's real shape. Its URL must be absolute
	// (https://host/path?query): the handler cases serve it at that path.
	Inbound func(c Call) *provider.Request
	// Status builds an unsigned status callback reporting st for c, with
	// talk time talk when st is completed. It may return nil for
	// [provider.StatusRinging] only, and only with
	// [Features.NoRingingCallback].
	Status func(c Call, st provider.Status, talk time.Duration) *provider.Request
	// Sign adds valid signature headers as of t.
	Sign func(r *provider.Request, t time.Time)
	// SignWrongSecret signs as Sign does, with another secret.
	SignWrongSecret func(r *provider.Request, t time.Time)
	// Tamper alters one signed value of a signed request. Default: change
	// the last digit of the caller's number wherever it first appears in
	// the body.
	Tamper func(r *provider.Request)
	// SignatureHeaders are the headers the scheme needs; each is removed
	// in turn and must be reported missing.
	SignatureHeaders []string
	// ParseForward reads a rendered routing answer back: the number
	// dialled and the caller id presented.
	ParseForward func(a provider.Answer) (to, callerID string, err error)
	// Outcome builds the vendor's unsigned report on the forwarded leg of
	// c, as its mechanism sends it to the Forward's CallbackURL
	// (callbackURL, the inbound webhook's URL): the business line ended
	// with o, after talk when o is answered. It returns nil for an outcome
	// the vendor cannot report, and the case is skipped, saying so.
	Outcome func(c Call, callbackURL string, o provider.Outcome, talk time.Duration) *provider.Request
	// Recording builds the vendor's unsigned recording callback for c
	// reporting rec, sent to callbackURL.
	Recording func(c Call, callbackURL string, rec provider.Recording) *provider.Request
}

// Features gates the rules that apply to some vendors only.
type Features struct {
	// Timestamped: the scheme signs a timestamp and refuses one further
	// than Tolerance from the provider's clock.
	Timestamped bool
	// Tolerance is the adapter's configured replay tolerance; required
	// with Timestamped.
	Tolerance time.Duration
	// CredentialsOnly: the scheme authenticates the sender but signs
	// nothing (Bandwidth's callback Basic auth), so a tampered body cannot
	// be detected and the tamper rules do not apply.
	CredentialsOnly bool
	// NoRingingCallback: the vendor sends no ringing status callback for
	// an inbound leg (Telnyx Call Control, Bandwidth).
	NoRingingCallback bool
}

// Run runs every case of the suite against the adapter in fx. Each case
// is a subtest named after the rule it enforces; a case that f rules out
// is skipped, saying why.
func Run(t *testing.T, fx Fixture, f Features) {
	t.Helper()
	if err := fx.check(f); err != nil {
		t.Fatalf("providertest: the fixture is incomplete: %v", err)
	}
	if fx.Tamper == nil {
		fx.Tamper = func(r *provider.Request) {
			r.Body = bytes.Replace(r.Body, []byte("8675309"), []byte("8675308"), 1)
		}
	}
	s := &suite{fx: fx, features: f}
	for _, c := range s.cases() {
		t.Run(c.name, c.run)
	}
}

type suite struct {
	fx       Fixture
	features Features
}

type testCase struct {
	name string
	run  func(t *testing.T)
}

func (s *suite) cases() []testCase {
	return []testCase{
		// Verify
		{"signed request is accepted", s.signedRequestIsAccepted},
		{"unsigned request is refused", s.unsignedRequestIsRefused},
		{"request missing a signature header is refused", s.requestMissingASignatureHeaderIsRefused},
		{"request signed with another secret is refused", s.requestSignedWithAnotherSecretIsRefused},
		{"tampered request is refused", s.tamperedRequestIsRefused},
		{"timestamp outside the tolerance is refused", s.timestampOutsideTheToleranceIsRefused},
		{"timestamp within the tolerance is accepted", s.timestampWithinTheToleranceIsAccepted},
		// Parse
		{"inbound webhook parses to the call with E.164 numbers", s.inboundWebhookParsesToTheCall},
		{"parsed event keeps the raw payload", s.parsedEventKeepsTheRawPayload},
		{"status callback parses to its status and talk time", s.statusCallbackParsesToItsStatus},
		{"malformed payload is refused", s.malformedPayloadIsRefused},
		// Render
		{"forward dials the target showing the tracking number", s.forwardShowsTheTrackingNumber},
		{"forward with caller id passthrough shows the caller", s.forwardWithPassthroughShowsTheCaller},
		{"whisper answer is well-formed", s.whisperAnswerIsWellFormed},
		{"recording without a caller notice is refused", s.recordingWithoutANoticeIsRefused},
		{"recording plays the caller notice", s.recordingPlaysTheNotice},
		{"recording is off unless asked for", s.recordingIsOffUnlessAskedFor},
		// Handler
		{"handler answers an inbound call with the route's forward", s.handlerAnswersWithTheForward},
		{"duplicate and out-of-order callbacks converge on one call", s.callbacksConverge},
		{"handler refuses an unsigned request with 403 (401 and a challenge for a Challenger)", s.handlerRefusesUnsigned},
		{"handler refuses a request signed with another secret with 403", s.handlerRefusesAnotherSecret},
		{"handler refuses a tampered request with 403", s.handlerRefusesTampered},
		{"handler refuses GET with 405", s.handlerRefusesGET},
		{"handler refuses an oversized body with 413", s.handlerRefusesOversized},
		{"call is answered while the store is down and recorded when it is back", s.answeredWhileStoreIsDown},
		// Forward outcomes and recordings
		{"a forward that rings out ends missed", s.forwardThatRingsOutEndsMissed},
		{"an answered forward ends answered with the leg's talk time", s.answeredForwardEndsAnswered},
		{"a busy line ends busy", s.busyForwardEndsBusy},
		{"a caller who hangs up while it rings ends abandoned", s.abandonedForwardEndsAbandoned},
		{"outcome and status converge in any order, twice", s.outcomeConvergesInAnyOrder},
		{"recording callback records the recording", s.recordingCallbackRecordsTheRecording},
		{"a refused call is rendered, not connected", s.rejectedCallIsRendered},
	}
}

// check reports every missing part of the fixture at once.
func (fx Fixture) check(f Features) error {
	var errs []error
	missing := func(name string, absent bool) {
		if absent {
			errs = append(errs, errors.New("field "+name+": required"))
		}
	}
	missing("Provider", fx.Provider == nil)
	missing("Now", fx.Now.IsZero())
	missing("Inbound", fx.Inbound == nil)
	missing("Status", fx.Status == nil)
	missing("Sign", fx.Sign == nil)
	missing("SignWrongSecret", fx.SignWrongSecret == nil)
	missing("ParseForward", fx.ParseForward == nil)
	missing("SignatureHeaders", len(fx.SignatureHeaders) == 0)
	missing("Outcome", fx.Outcome == nil)
	missing("Recording", fx.Recording == nil)
	if f.Timestamped && f.Tolerance <= 0 {
		errs = append(errs, errors.New("field Features.Tolerance: must be positive with Features.Timestamped"))
	}
	if fx.Inbound != nil {
		if u, err := url.Parse(fx.Inbound(sample).URL); err != nil || !u.IsAbs() || u.Host == "" {
			errs = append(errs, errors.New("field Inbound: the request's URL must be absolute (https://host/path)"))
		}
	}
	return errors.Join(errs...)
}

var sample = Call{ID: "call-0001", From: "+14158675309", To: "+18005551212"}

// signed returns r signed as of the fixture's now.
func (s *suite) signed(r *provider.Request) *provider.Request {
	s.fx.Sign(r, s.fx.Now)
	return r
}
