package telnyx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/providertest"
	"github.com/attriqs/calltrack/provider/telnyx"
)

// commandMode is a Telnyx provider with an API key, as the conformance
// suite sees it. Call Control ignores webhook answers, so the suite's
// render cases, which read the routing answer from RenderForward, would
// otherwise test the TeXML renderer. Here RenderForward routes the call
// as the Handler does, through RouteCall, step by step through the
// webhooks Telnyx sends back (the answer's call.answered, the notice's
// call.speak.ended), against a stand-in of Telnyx's API, and renders the
// commands Telnyx received as JSON for ccForwards.parse. Everything else,
// RouteCall under the suite's Handler included, is the provider's own.
type commandMode struct {
	*telnyx.Provider
	// render routes RenderForward's calls; its stand-in is not the one
	// the Handler's commands reach.
	render    *telnyx.Provider
	renderAPI *callControlAPI
}

// commandAnswer is what commandMode.RenderForward renders: the commands,
// and the number Telnyx shows the business when a transfer names no
// caller id (the dialled one, the original call's to).
type commandAnswer struct {
	Commands []recordedCommand `json:"commands"`
	Dialled  string            `json:"dialled"`
}

func (m commandMode) RenderForward(f provider.Forward, ev provider.CallEvent) (provider.Answer, error) {
	ctx := context.Background()
	before := len(m.renderAPI.all())
	call := providertest.Call{ID: ev.CallID, From: ev.From, To: ev.To}
	for step := ev; ; {
		if !m.render.RoutesByCommand(step) {
			return provider.Answer{}, fmt.Errorf("a step of routing is not routed by command: %+v", step)
		}
		if err := m.render.RouteCall(ctx, f, step); err != nil {
			return provider.Answer{}, err
		}
		sent := m.renderAPI.all()
		last := sent[len(sent)-1]
		var next *provider.Request
		switch state, _ := last.Body["client_state"].(string); {
		case strings.HasSuffix(last.Path, "/actions/answer"):
			next = stepEvent(call, "call.answered", state, "")
		case strings.HasSuffix(last.Path, "/actions/speak"):
			next = stepEvent(call, "call.speak.ended", state, `,"status":"completed"`)
		}
		if next == nil {
			break
		}
		var err error
		if step, err = m.render.Parse(next); err != nil {
			return provider.Answer{}, fmt.Errorf("the webhook Telnyx sends after %s: %w", last.Path, err)
		}
	}
	body, err := json.Marshal(commandAnswer{Commands: m.renderAPI.all()[before:], Dialled: ev.To})
	return provider.Answer{ContentType: "application/json", Body: body}, err
}

// ccForwards builds the Call Control conformance fixture's inbound
// webhooks and reads its routing answers.
type ccForwards struct {
	handlerAPI *callControlAPI
	mu         sync.Mutex
	n          int    // inbound webhooks built
	latest     string // the call_control_id of the latest one
}

// inbound renders call.initiated for c with a call_control_id of its own,
// so the transfer the Handler sends for it can be told from others'.
func (x *ccForwards) inbound(c providertest.Call) *provider.Request {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.n++
	x.latest = fmt.Sprintf("v3:conformance-%d", x.n)
	r := event(c, "call.initiated", "")
	r.Body = bytes.Replace(r.Body, []byte(`"call_control_id":"v3:AgDIxmoRX6QMuaIj"`), []byte(`"call_control_id":"`+x.latest+`"`), 1)
	return r
}

// parse reads a routing answer: the commands commandMode rendered, or the
// Handler's acknowledgement, after which the transfer for the latest
// inbound webhook reaches the stand-in (waited for).
func (x *ccForwards) parse(a provider.Answer) (to, callerID string, err error) {
	if !bytes.HasPrefix(bytes.TrimSpace(a.Body), []byte("{")) {
		x.mu.Lock()
		latest := x.latest
		x.mu.Unlock()
		c := x.handlerAPI.waitFor("/calls/" + latest + "/actions/transfer")
		to, _ := c.Body["to"].(string)
		from, _ := c.Body["from"].(string)
		return to, from, nil
	}
	var ans commandAnswer
	if err := json.Unmarshal(a.Body, &ans); err != nil {
		return "", "", err
	}
	for _, c := range ans.Commands {
		if strings.HasSuffix(c.Path, "/actions/transfer") {
			from, _ := c.Body["from"].(string)
			if from == "" {
				from = ans.Dialled // Telnyx's default
			}
			to, _ := c.Body["to"].(string)
			return to, from, nil
		}
	}
	return "", "", fmt.Errorf("%w: no transfer among %v", provider.ErrMalformedPayload, ans.Commands)
}

// newCommandMode returns the provider in Call Control mode for the
// conformance suite, and the fixture's webhook builder and answer reader.
func newCommandMode(t *testing.T) (commandMode, *ccForwards) {
	t.Helper()
	cfg := func(api *callControlAPI) telnyx.Config {
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		return telnyx.Config{PublicKey: publicKey, Clock: func() time.Time { return now }, APIKey: "KEY0123", APIBaseURL: srv.URL,
			Logger: slog.New(slog.DiscardHandler), WhisperAudio: map[string]string{`Call from "Ads" <&>`: "https://media.example.com/whisper/ads.mp3"}}
	}
	handlerAPI, renderAPI := &callControlAPI{}, &callControlAPI{}
	p, err := telnyx.New(cfg(handlerAPI))
	if err != nil {
		t.Fatal(err)
	}
	render, err := telnyx.New(cfg(renderAPI))
	if err != nil {
		t.Fatal(err)
	}
	return commandMode{Provider: p, render: render, renderAPI: renderAPI}, &ccForwards{handlerAPI: handlerAPI}
}
