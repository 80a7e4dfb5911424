package bandwidth_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/bandwidth"
	"github.com/attriqs/calltrack/provider/providertest"
)

// bxmlTransfer is the part of a rendered answer Bandwidth acts on.
type bxmlTransfer struct {
	StartRecording struct {
		URL      string `xml:"recordingAvailableUrl,attr"`
		Username string `xml:"username,attr"`
		Password string `xml:"password,attr"`
	} `xml:"StartRecording"`
	Transfer struct {
		CompleteURL string `xml:"transferCompleteUrl,attr"`
		Username    string `xml:"username,attr"`
		Password    string `xml:"password,attr"`
		PhoneNumber struct {
			AnswerURL     string `xml:"transferAnswerUrl,attr"`
			DisconnectURL string `xml:"transferDisconnectUrl,attr"`
			Username      string `xml:"username,attr"`
			Password      string `xml:"password,attr"`
			Number        string `xml:",chardata"`
		} `xml:"PhoneNumber"`
	} `xml:"Transfer"`
}

// bandwidthCall plays Bandwidth's side of calls against a provider.Handler
// served at https://calls.example.com/calltrack/bandwidth.
type bandwidthCall struct {
	t   *testing.T
	srv *httptest.Server
	rec *providertest.MemoryRecorder
	in  *provider.Ingest
}

const publicURL = "https://calls.example.com/calltrack/bandwidth"

func newBandwidthCall(t *testing.T, route provider.Forward) *bandwidthCall {
	t.Helper()
	p, err := bandwidth.New(bandwidth.Config{CallbackUsername: "calltrack", CallbackPassword: "callback-password"})
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	rec := providertest.NewMemoryRecorder()
	in, err := provider.NewIngest(rec, provider.IngestConfig{SpoolDir: t.TempDir(), RetryInterval: 10 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	providertest.RunIngest(t, in)
	h, err := provider.NewHandler(p, in, func(context.Context, provider.CallEvent) (provider.Forward, error) { return route, nil },
		provider.HandlerConfig{PublicURL: "https://calls.example.com", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); _ = in.Close() })
	return &bandwidthCall{t: t, srv: srv, rec: rec, in: in}
}

// post sends body to u (a URL under publicURL) as Bandwidth does, with
// the credentials given.
func (b *bandwidthCall) post(u, user, pass, body string) []byte {
	b.t.Helper()
	parsed, err := url.Parse(u)
	if err != nil || !strings.HasPrefix(u, publicURL) {
		b.t.Fatalf("Bandwidth was asked to call %q, not the handler's %s", u, publicURL)
	}
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+parsed.RequestURI(), bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(bandwidth.AuthorizationHeader, bandwidth.BasicAuth(user, pass))
	res, err := b.srv.Client().Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		b.t.Fatalf("POST %s: %d %s", u, res.StatusCode, out)
	}
	return out
}

func (b *bandwidthCall) settle(writes int) provider.CallEvent {
	b.t.Helper()
	for b.rec.Writes() < writes || b.in.Stats().Pending != 0 {
		time.Sleep(time.Millisecond) // bounded by go test -timeout, not by a guess
	}
	got, ok := b.rec.Call(bandwidth.Name, "c-parent")
	if !ok || len(b.rec.Calls()) != 1 {
		b.t.Fatalf("recorded %v, want the one caller's call c-parent", b.rec.Calls())
	}
	return got
}

const (
	initiate = `{"eventType":"initiate","eventTime":"2026-03-01T12:00:00.000Z","accountId":"9900000","from":"+14158675309","to":"+18005551212",` +
		`"direction":"inbound","callId":"c-parent","startTime":"2026-03-01T12:00:00.000Z",` +
		`"stirShaken":{"verstat":"TN-Validation-Passed","attestationIndicator":"B","originatingId":"x"}}`
	legFmt = `{"eventType":%q,"eventTime":"2026-03-01T12:01:00.000Z","from":"+14158675309","to":"+18005551212","direction":"outbound",` +
		`"callId":"c-leg","parentCallId":"c-parent","transferCallerId":"+18005551212","transferTo":"+12125550123",` +
		`"startTime":"2026-03-01T12:00:02.000Z"%s}`
	disconnectParent = `{"eventType":"disconnect","eventTime":"2026-03-01T12:01:10.000Z","from":"+14158675309","to":"+18005551212","direction":"inbound",` +
		`"callId":"c-parent","startTime":"2026-03-01T12:00:00.000Z","answerTime":"2026-03-01T12:00:00.500Z","endTime":"2026-03-01T12:01:10.000Z","cause":"hangup"}`
)

// An answered, recorded forward with a whisper, as Bandwidth runs it:
// every callback goes where the answer said, with the credentials it
// gave, and the call ends answered with the leg's talk time, recorded,
// attested B, whatever the order and however often Bandwidth retries.
func TestHandlerAnsweredForward(t *testing.T) {
	b := newBandwidthCall(t, provider.Forward{To: "+12125550123", Whisper: "Call from Google Ads", Record: true, RecordingNotice: "This call is recorded"})
	var doc bxmlTransfer
	if err := xml.Unmarshal(b.post(publicURL, "calltrack", "callback-password", initiate), &doc); err != nil {
		t.Fatal(err)
	}
	pn := doc.Transfer.PhoneNumber
	if pn.Number != "+12125550123" || pn.DisconnectURL != publicURL || doc.Transfer.CompleteURL != publicURL || doc.StartRecording.URL != publicURL ||
		pn.Username != "calltrack" || pn.Password != "callback-password" || doc.Transfer.Password != "callback-password" || doc.StartRecording.Password != "callback-password" {
		t.Fatalf("the answer asks for %+v", doc)
	}
	whisper := b.post(pn.AnswerURL, pn.Username, pn.Password, fmt.Sprintf(legFmt, "transferAnswer", `,"answerTime":"2026-03-01T12:00:07.000Z"`))
	if !bytes.Contains(whisper, []byte("<SpeakSentence>Call from Google Ads</SpeakSentence>")) {
		t.Fatalf("whisper answer %s", whisper)
	}
	hungUp := fmt.Sprintf(legFmt, "transferDisconnect", `,"answerTime":"2026-03-01T12:00:07.000Z","endTime":"2026-03-01T12:01:09.400Z","cause":"hangup"`)
	recording := `{"eventType":"recordingAvailable","eventTime":"2026-03-01T12:01:30.000Z","from":"+14158675309","to":"+18005551212","direction":"inbound",` +
		`"callId":"c-parent","recordingId":"r-1","channels":1,"duration":"PT69.5S","fileFormat":"wav",` +
		`"mediaUrl":"https://voice.bandwidth.com/api/v2/accounts/9900000/calls/c-parent/recordings/r-1/media","status":"complete"}`
	b.post(pn.DisconnectURL, pn.Username, pn.Password, hungUp)
	b.post(doc.StartRecording.URL, doc.StartRecording.Username, doc.StartRecording.Password, recording)
	b.post(publicURL, "calltrack", "callback-password", disconnectParent)
	b.post(pn.DisconnectURL, pn.Username, pn.Password, hungUp) // a retry
	got := b.settle(5)
	if got.Outcome != provider.OutcomeAnswered || got.TalkTime != 62*time.Second || got.Status != provider.StatusCompleted ||
		got.Recording.ID != "r-1" || got.Recording.Duration != 69500*time.Millisecond || got.Attestation != provider.AttestationPartial || got.From != "+14158675309" {
		t.Fatalf("recorded %+v", got)
	}
}

// A forward the business never picks up: the leg times out, and the
// caller's call ends missed even though the caller's own call completed.
// Reported before the initiate, it converges all the same.
func TestHandlerForwardRingsOut(t *testing.T) {
	b := newBandwidthCall(t, provider.Forward{To: "+12125550123"})
	b.post(publicURL, "calltrack", "callback-password", fmt.Sprintf(legFmt, "transferDisconnect", `,"endTime":"2026-03-01T12:00:32.000Z","cause":"timeout"`))
	var doc bxmlTransfer
	if err := xml.Unmarshal(b.post(publicURL, "calltrack", "callback-password", initiate), &doc); err != nil || doc.Transfer.PhoneNumber.DisconnectURL != publicURL {
		t.Fatalf("answer %+v, %v", doc, err)
	}
	b.post(publicURL, "calltrack", "callback-password", disconnectParent)
	got := b.settle(3)
	if got.Outcome != provider.OutcomeNoAnswer || !got.Outcome.Missed() || got.TalkTime != 0 {
		t.Fatalf("recorded outcome %q talk %s, want no-answer, missed", got.Outcome, got.TalkTime)
	}
}
