package telnyx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// DefaultAPIBaseURL is where Call Control commands go.
const DefaultAPIBaseURL = "https://api.telnyx.com/v2"

// Bounds Telnyx sets on a transfer's ring time (timeout_secs).
const (
	minTransferTimeout = 5 * time.Second
	maxTransferTimeout = 600 * time.Second
)

// commandAttempts is how many times a command is sent when Telnyx or the
// network fails transiently; the command id makes repeats harmless.
const commandAttempts = 3

var _ provider.CommandRouter = (*Provider)(nil)

// RoutesByCommand reports whether ev is a Call Control call this provider
// connects with a transfer command: an inbound call.initiated event, when
// Config.APIKey is set. TeXML calls are routed by the webhook answer.
func (p *Provider) RoutesByCommand(ev provider.CallEvent) bool {
	return p.cfg.APIKey != "" && ev.Kind == provider.KindInbound && isJSON(ev.Raw)
}

func isJSON(body []byte) bool {
	trimmed := bytes.TrimSpace(body)
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// transferCommand is the body of Call Control's transfer command.
type transferCommand struct {
	To          string `json:"to"`
	From        string `json:"from,omitempty"`
	TimeoutSecs int    `json:"timeout_secs"`
	CommandID   string `json:"command_id"`
	// ClientState is echoed on the caller's leg's later events,
	// TargetLegClientState on the business leg's: both name the caller's
	// leg, so the business leg's outcome folds into the caller's call.
	ClientState          string `json:"client_state,omitempty"`
	TargetLegClientState string `json:"target_leg_client_state,omitempty"`
	// AnsweringMachineDetection is Config.MachineDetection.
	AnsweringMachineDetection string `json:"answering_machine_detection,omitempty"`
}

// rejectCommand is the body of Call Control's reject command.
type rejectCommand struct {
	Cause     string `json:"cause"`
	CommandID string `json:"command_id"`
}

// RouteCall connects a Call Control call. f.Reject sends the reject
// command (cause CALL_REJECTED). Otherwise it transfers the call to f.To
// with the ring time (5 to 600 s, Telnyx's bounds), answering-machine
// detection when Config.MachineDetection is set, and a client_state
// naming the caller's leg on both legs, which is how the business leg's
// events come back as the forward's outcome. The command id is derived
// from the call, so a webhook Telnyx delivers twice, or a command sent
// again after a timeout, acts once. The caller id shown to the business
// is the tracking number (Telnyx's default), or the caller's own number
// with f.CallerIDPassthrough.
//
// Whisper and recording are not applied: a transfer plays only an audio
// file to the business (audio_url), not text, and a recording must be
// announced to the caller before the business answers, which a transfer
// cannot order; use a TeXML application for either.
func (p *Provider) RouteCall(ctx context.Context, f provider.Forward, ev provider.CallEvent) error {
	var env envelope
	if err := json.Unmarshal(ev.Raw, &env); err != nil || env.Data.Payload.CallControlID == "" {
		return fmt.Errorf("telnyx: transfer: %w: payload.call_control_id is missing", provider.ErrMalformedPayload)
	}
	id := env.Data.Payload.CallControlID
	if f.Reject {
		return p.command(ctx, id, "reject", rejectCommand{Cause: "CALL_REJECTED", CommandID: "calltrack-reject-" + id})
	}
	state := forwardState{Parent: ev.CallID, AMD: p.cfg.MachineDetection != ""}.encode()
	cmd := transferCommand{
		To:                        f.To,
		TimeoutSecs:               transferSeconds(f.RingTimeout),
		CommandID:                 "calltrack-transfer-" + id,
		ClientState:               state,
		TargetLegClientState:      state,
		AnsweringMachineDetection: p.cfg.MachineDetection,
	}
	if f.CallerIDPassthrough {
		cmd.From = ev.From
	}
	return p.command(ctx, id, "transfer", cmd)
}

func transferSeconds(ring time.Duration) int {
	if ring == 0 {
		ring = provider.DefaultRingTimeout
	}
	return int(min(max(ring, minTransferTimeout), maxTransferTimeout) / time.Second)
}

// command posts one Call Control command, retrying network errors, 429 and
// 5xx answers with a growing pause (or the one Retry-After asks for).
func (p *Provider) command(ctx context.Context, callControlID, action string, body any) error {
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("telnyx: %s: %w", action, err)
	}
	endpoint := strings.TrimRight(p.cfg.APIBaseURL, "/") + "/calls/" + url.PathEscape(callControlID) + "/actions/" + action
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		retryAfter, err := p.post(ctx, endpoint, payload)
		if err == nil {
			return nil
		}
		var perm permanentError
		if errors.As(err, &perm) || attempt == commandAttempts {
			return fmt.Errorf("telnyx: %s (attempt %d): %w", action, attempt, err)
		}
		if retryAfter > 0 {
			wait = retryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("telnyx: %s: %w (after: %w)", action, ctx.Err(), err)
		case <-t.C:
		}
		wait *= 2
	}
}

// permanentError is an answer that sending again cannot change (4xx other
// than 429: a bad key, a call that has already ended).
type permanentError struct{ error }

func (p *Provider) post(ctx context.Context, endpoint string, payload []byte) (retryAfter time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return 0, permanentError{err}
	}
	req.Header.Set("Authorization", "Bearer "+p.cfg.APIKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 == 2 {
		return 0, nil
	}
	err = fmt.Errorf("HTTP %d: %s", resp.StatusCode, apiErrorText(msg))
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return time.Duration(secs) * time.Second, err
	}
	return 0, permanentError{err}
}

// apiErrorText reads Telnyx's {"errors":[{"code","title","detail"}]} body,
// or returns the body itself.
func apiErrorText(body []byte) string {
	var e struct {
		Errors []struct {
			Code   string `json:"code"`
			Title  string `json:"title"`
			Detail string `json:"detail"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Errors) == 0 {
		return strings.TrimSpace(string(body))
	}
	var parts []string
	for _, x := range e.Errors {
		parts = append(parts, strings.TrimSpace(x.Code+" "+x.Title+": "+x.Detail))
	}
	return strings.Join(parts, "; ")
}
