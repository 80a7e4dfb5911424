package fake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/attriqs/calltrack/provider"
)

// Call describes a simulated call.
type Call struct {
	ID   string
	From string // caller, E.164
	To   string // tracking number dialled, E.164
	// Answered says whether the business picked up; unanswered calls end
	// "no-answer".
	Answered bool
	// Duration is the talk time reported on completion.
	Duration time.Duration
	// Outcome is what the forward reports when it is not the one Answered
	// implies (answered, or no-answer): busy, abandoned, voicemail, ...
	Outcome provider.Outcome
	// Attestation is the caller's STIR/SHAKEN level ("A", "B", "C").
	Attestation provider.Attestation
}

// Caller places simulated calls against a webhook handler, signing every
// request like the vendor would.
type Caller struct {
	Secret []byte
	// HTTPClient defaults to http.DefaultClient.
	HTTPClient *http.Client
	// Clock stamps events and signatures; defaults to time.Now.
	Clock func() time.Time
}

// PlaceCall posts the inbound webhook to url, decodes the routing answer,
// then posts the status callbacks of the call's life. It returns the
// routing answer.
func (c *Caller) PlaceCall(ctx context.Context, url string, call Call) (Answer, error) {
	now := c.now()
	var ans Answer
	body, err := c.post(ctx, url, Event{Type: EventInbound, CallID: call.ID, From: call.From, To: call.To, OccurredAt: now, Attestation: string(call.Attestation)})
	if err != nil {
		return ans, err
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return ans, fmt.Errorf("fake: routing answer: %w", err)
	}
	if ans.Action == "reject" {
		return ans, nil
	}
	callback := ans.CallbackURL
	if callback == "" {
		callback = url
	}
	outcome := call.Outcome
	if outcome == provider.OutcomeUnknown {
		outcome = provider.OutcomeNoAnswer
		if call.Answered {
			outcome = provider.OutcomeAnswered
		}
	}
	type step struct {
		to string
		ev Event
	}
	steps := []step{{url, Event{Type: EventStatus, Status: "ringing"}}}
	if call.Answered {
		talk := int(call.Duration / time.Second)
		steps = append(steps,
			step{url, Event{Type: EventStatus, Status: "in-progress"}},
			step{callback, Event{Type: EventForward, Outcome: string(outcome), TalkS: talk}})
		if ans.Record {
			steps = append(steps, step{callback, Event{Type: EventRecording, RecordingID: "RE" + call.ID,
				RecordingURL: "https://fake.invalid/recordings/RE" + call.ID, DurationS: talk}})
		}
		steps = append(steps, step{url, Event{Type: EventStatus, Status: "completed", DurationS: talk}})
	} else {
		steps = append(steps,
			step{callback, Event{Type: EventForward, Outcome: string(outcome)}},
			step{url, Event{Type: EventStatus, Status: "no-answer"}})
	}
	for _, st := range steps {
		st.ev.CallID, st.ev.From, st.ev.To, st.ev.OccurredAt = call.ID, call.From, call.To, c.now()
		if _, err := c.post(ctx, st.to, st.ev); err != nil {
			return ans, err
		}
	}
	return ans, nil
}

// Post sends one signed event and returns the response body; non-2xx
// statuses are errors.
func (c *Caller) Post(ctx context.Context, url string, ev Event) ([]byte, error) {
	return c.post(ctx, url, ev)
}

func (c *Caller) post(ctx context.Context, url string, ev Event) ([]byte, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(SignatureHeader, Sign(c.Secret, payload, c.now()))
	client := c.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return body, fmt.Errorf("fake: %s answered %d: %s", url, resp.StatusCode, bytes.TrimSpace(body))
	}
	return body, nil
}

func (c *Caller) now() time.Time {
	if c.Clock != nil {
		return c.Clock()
	}
	return time.Now()
}
