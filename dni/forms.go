package dni

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/attriqs/calltrack/export"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

// FormSubmission is a form submission the host reports itself
// ([Service.RecordForm]), having received and checked it.
type FormSubmission struct {
	// ID is the host's own id of the submission (a lead's id): repeats
	// with the same id converge on one touchpoint. [A-Za-z0-9_.:-], 1 to
	// 64 characters; empty files the submission under its time.
	ID      string    `json:"id,omitempty"`
	Name    string    `json:"name"`              // the form's name, as the tracker would send it
	Page    string    `json:"page,omitempty"`    // the path of the page it was sent from
	Outcome string    `json:"outcome,omitempty"` // e.g. "sent"
	At      time.Time `json:"at"`                // zero: now
	// EmailSHA256 and PhoneSHA256 are as in [Event].
	EmailSHA256 string `json:"email_sha256,omitempty"`
	PhoneSHA256 string `json:"phone_sha256,omitempty"`
	// EmailGoogleSHA256 is the address hashed as Google Ads asks: trimmed,
	// lower-cased and, for gmail.com and googlemail.com, without the dots
	// before the @. Set it when that differs from what EmailSHA256 hashed;
	// Google's uploads take it instead of EmailSHA256, the other platforms
	// never see it.
	EmailGoogleSHA256 string `json:"email_google_sha256,omitempty"`
}

var submissionID = regexp.MustCompile(`^[\w.:-]{1,64}$`)

// RecordForm records a form submission of the session that the host
// received and verified server-side: a touchpoint of kind form, marked
// verified, which goes through Config.FormRules as the tracker's form
// events do, and also counts under the rules that take verified forms
// only (FormRule.Verified). A repeat (same ID, or same time without one)
// changes nothing. An unknown session is ErrInvalidID; bad fields are
// ErrInvalidEvent naming the field.
func (s *Service) RecordForm(ctx context.Context, sessionID string, f FormSubmission) error {
	ev := Event{Type: EventForm, Name: f.Name, Page: f.Page, Outcome: f.Outcome, EmailSHA256: f.EmailSHA256, PhoneSHA256: f.PhoneSHA256,
		EmailGoogleSHA256: f.EmailGoogleSHA256}
	if err := ev.validate(); err != nil {
		return fmt.Errorf("dni: record form: %w", err)
	}
	if f.ID != "" && !submissionID.MatchString(f.ID) {
		return fmt.Errorf("dni: record form: %w: id: want [A-Za-z0-9_.:-], 1 to 64 characters", ErrInvalidEvent)
	}
	id, err := validID(sessionID)
	if err != nil || id == "" {
		return fmt.Errorf("dni: record form: session_id: %w", orEmpty(err))
	}
	sess, err := s.session(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("dni: record form: session_id: %w: no such session", ErrInvalidID)
	}
	if err != nil {
		return err
	}
	at := s.now().UTC()
	if !f.At.IsZero() {
		at = f.At.UTC()
	}
	// Never the browser's key (the time alone), so the browser cannot
	// overwrite a verified touchpoint.
	key := fmt.Sprint("server-", at.UnixMilli())
	if f.ID != "" {
		key = "id:" + f.ID
	}
	tp := journey.Touchpoint{ID: fmt.Sprintf("%s:%s/%s/%s", EventForm, sess.ID, f.Name, key), Kind: journey.TouchForm,
		At: at, VisitorID: sess.VisitorID, SessionID: sess.ID, Source: sess.Source,
		Attrs: map[string]string{"event": EventForm, journey.AttrFormName: f.Name, journey.AttrFormVerified: "true"}}
	for k, v := range map[string]string{journey.AttrFormPage: f.Page, journey.AttrFormOutcome: f.Outcome,
		"email_sha256": f.EmailSHA256, "email_google_sha256": f.EmailGoogleSHA256, "phone_sha256": f.PhoneSHA256} {
		if v != "" {
			tp.Attrs[k] = v
		}
	}
	if err := s.store.AddTouchpoint(ctx, tp); err != nil {
		return err
	}
	return s.convertForm(ctx, tp)
}

// convertForm applies Config.FormRules to a form touchpoint just written:
// a qualifying form gets its conversion, written with its export
// messages. Its id is the touchpoint's, so a resent event, or the outcome
// arriving later, rewrites the same conversion and queues nothing new
// (messages are named by it). A touchpoint with an outcome set by hand is
// left as the hand set it.
func (s *Service) convertForm(ctx context.Context, tp journey.Touchpoint) error {
	if len(s.cfg.FormRules) == 0 {
		return nil
	}
	switch _, err := s.store.ManualOutcome(ctx, tp.ID); {
	case err == nil:
		return nil
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	d, err := journey.QualifyForm(ctx, s.cfg.FormRules, tp, formHistory{s})
	if err != nil || !d.Qualified {
		return err
	}
	c := d.Conversion
	if s.exports == nil {
		return s.store.PutConversion(ctx, c)
	}
	ev, err := s.formEvent(ctx, c, tp)
	if err != nil {
		return err
	}
	return s.exports.Record(ctx, ev) // the conversion and its messages, in one transaction
}

// formEvent is what the sinks receive of a form's conversion: with the
// session's ads consent, also the hashed email and phone the form carried
// (export.Event.UserData), for the ad platforms that match on them.
func (s *Service) formEvent(ctx context.Context, c journey.Conversion, tp journey.Touchpoint) (export.Event, error) {
	src, ids, err := s.exported(ctx, tp.SessionID, tp.Source)
	ev := export.Event{Conversion: &c, Source: src, AdIDs: ids, Touch: journey.TouchForm}
	if ids.Consent {
		ev.UserData = export.UserData{EmailSHA256: tp.Attrs["email_sha256"], PhoneSHA256: tp.Attrs["phone_sha256"],
			EmailGoogleSHA256: tp.Attrs["email_google_sha256"]}
	}
	return ev, err
}

// formOutcome applies a hand-set outcome to a form: the form's conversion
// (the one the rules write) at the outcome's value, or none, with the
// export messages the change owes, as a call's.
func (s *Service) formOutcome(ctx context.Context, tp journey.Touchpoint, mo journey.ManualOutcome) (*journey.Conversion, []string, []store.OutboxMessage, error) {
	id := journey.FormConversionID(tp.ID)
	// Before form rules, a hand-set outcome made a conversion of its own id.
	retract := []string{journey.ManualConversionID(tp.ID)}
	var put *journey.Conversion
	if mo.Status.Converts() {
		put = &journey.Conversion{ID: id, Type: journey.ConversionForm, At: tp.At.UTC(), VisitorID: tp.VisitorID,
			SessionID: tp.SessionID, Value: mo.Value, Currency: mo.Currency}
	} else {
		retract = append(retract, id)
	}
	msgs, err := s.changeMessages(ctx, id, put, tp.At, tp.SessionID, tp.Source, mo, func() ([]store.OutboxMessage, error) {
		ev, err := s.formEvent(ctx, *put, tp)
		if err != nil {
			return nil, err
		}
		return s.exports.Messages(ev)
	})
	return put, retract, msgs, err
}

// formHistory reads a visitor's earlier forms for FirstTimeOnly rules: the
// form touchpoints of the visitor's person (every visitor id linked to
// them).
type formHistory struct{ s *Service }

func (h formHistory) FormsBefore(ctx context.Context, visitorID string, before time.Time) ([]journey.Touchpoint, error) {
	person, err := h.s.personOf(ctx, journey.Identifier{Kind: journey.IDVisitor, Value: visitorID})
	if err != nil {
		return nil, err
	}
	tps, err := h.s.store.TouchpointsOf(ctx, person, time.Time{}, before)
	if err != nil {
		return nil, err
	}
	var forms []journey.Touchpoint
	for _, tp := range tps {
		if tp.Kind == journey.TouchForm {
			forms = append(forms, tp)
		}
	}
	return forms, nil
}
