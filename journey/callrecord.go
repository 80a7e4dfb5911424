package journey

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/attriqs/calltrack/provider"
)

// CallRecord is everything one call produces besides the call itself: its
// attribution, the link between the caller's number and the visitor the
// call is filed under, the call's touchpoint and, when it qualified, its
// conversion. A store writes it in one transaction, so readers never see a
// call credited without its touchpoint or converted without its journey.
type CallRecord struct {
	Attribution Attribution
	// Caller links the caller's phone identifier to the visitor; nil when
	// the number is withheld or not a phone number.
	Caller     *CallerLink
	Touchpoint Touchpoint
	// Conversion is set when Decision.Qualified.
	Conversion *Conversion
	Decision   Decision
}

// CallerLink says that a phone identifier and a visitor id name one person.
type CallerLink struct {
	Phone   Identifier
	Visitor Identifier
}

// WithheldCallerPrefix begins the visitor id of a call that no session
// explains from a caller whose number is withheld: each such call is a
// journey of its own, since nothing says two of them are one person.
const WithheldCallerPrefix = "caller-withheld-"

// CallPipeline derives a CallRecord from a merged call. It is safe for
// concurrent use; the answer depends only on the call and what its
// stitcher and qualifier read, so a duplicate event derives the same
// record, written again by the same natural ids.
type CallPipeline struct {
	Stitcher  *Stitcher
	Qualifier *Qualifier
	// IdentityKey, when set, keys the caller's phone identifier (see
	// PhoneID). A call whose number is already keyed ([RedactCall]) is
	// linked by that value, with or without the key.
	IdentityKey []byte
	// PoolOf names the pool of a tracking number ("" for none), for the
	// qualification rules scoped to a pool; nil means no pools.
	PoolOf func(number string) string
	// Spam marks spam calls, which never qualify; nil marks none.
	Spam *SpamFilter
	// Outcomes holds the outcomes set by hand, which win over the rules
	// and the spam filter; nil means none.
	Outcomes OutcomeBook
}

// ErrCallNotReady is returned by [CallPipeline.Process] for a call that
// carries no time or no dialled number yet: a later event will.
var ErrCallNotReady = errors.New("journey: call has no time or dialled number yet")

// Process stitches and qualifies a merged call and derives what it
// produces.
func (p *CallPipeline) Process(ctx context.Context, call provider.CallEvent) (CallRecord, error) {
	at, err := CallTime(call)
	if err != nil || call.To == "" {
		return CallRecord{}, ErrCallNotReady
	}
	a, err := p.Stitcher.Stitch(ctx, call)
	if err != nil {
		return CallRecord{}, err
	}
	rec := CallRecord{Attribution: a}
	visitor := a.VisitorID
	if phone, err := PhoneID(call.From, p.IdentityKey); err == nil {
		if visitor == "" {
			visitor = callerVisitor(phone)
		}
		rec.Caller = &CallerLink{Phone: phone, Visitor: Identifier{Kind: IDVisitor, Value: visitor}}
	} else if visitor == "" {
		visitor = WithheldCallerPrefix + call.Provider + "-" + call.CallID
	}
	rec.Touchpoint = Touchpoint{ID: CallTouchpointID(call.Provider, call.CallID), Kind: TouchCall, At: at.UTC(),
		VisitorID: visitor, SessionID: a.SessionID, Source: a.Source,
		Attrs: map[string]string{"status": string(call.Status), "confidence": string(a.Confidence)}}
	if talk := TalkTime(call); talk > 0 {
		rec.Touchpoint.Attrs["talk_s"] = fmt.Sprint(int(talk.Seconds()))
	}
	callAttrs(rec.Touchpoint.Attrs, call)
	poolName := ""
	if p.PoolOf != nil {
		poolName = p.PoolOf(call.To)
	}
	spam, err := p.Spam.Check(ctx, call)
	if err != nil {
		return CallRecord{}, err
	}
	if spam != "" {
		rec.Touchpoint.Attrs[AttrSpam] = spam
		rec.Decision = Decision{Rule: LabelSpam, Reason: "spam: " + spam}
	} else if rec.Decision, err = p.Qualifier.Qualify(ctx, call, a, poolName); err != nil {
		return CallRecord{}, err
	}
	if rec.Decision.Qualified {
		c := rec.Decision.Conversion
		c.VisitorID = visitor // a caller with no session is filed under the caller
		rec.Conversion = &c
	}
	if p.Outcomes != nil {
		o, ok, err := p.Outcomes.HandSetOutcome(ctx, rec.Touchpoint.ID)
		if err != nil {
			return CallRecord{}, fmt.Errorf("journey: the call's outcome set by hand: %w", err)
		}
		if ok {
			rec = ApplyOutcome(rec, call, o)
		}
	}
	return rec, nil
}

// Attributes of a call's touchpoint beyond status and confidence.
const (
	AttrOutcome     = "outcome"     // the forward's outcome
	AttrRecording   = "recording"   // the recording's id
	AttrLabels      = "labels"      // the analyzer's labels, comma-separated
	AttrAttestation = "attestation" // STIR/SHAKEN level
	AttrSpam        = "spam"        // why the call is spam; absent when it is not
)

// callAttrs records on a call's touchpoint what the carrier and the
// analyzer said of it.
func callAttrs(attrs map[string]string, call provider.CallEvent) {
	for k, v := range map[string]string{
		AttrOutcome: string(call.Outcome), AttrRecording: call.Recording.ID,
		AttrLabels: strings.Join(call.Labels, ","), AttrAttestation: string(call.Attestation),
	} {
		if v != "" {
			attrs[k] = v
		}
	}
}

// callerVisitor is the visitor id a call no session explains is filed
// under: derived from the caller's (possibly keyed) number, so the
// caller's later calls join the same journey.
func callerVisitor(phone Identifier) string {
	return "caller-" + strings.TrimPrefix(strings.TrimPrefix(phone.Value, "h:"), "+")
}

// CallTouchpointID is the natural id of a call's touchpoint.
func CallTouchpointID(providerName, callID string) string {
	return callTouchpointPrefix + providerName + "/" + callID
}

const callTouchpointPrefix = "call:"

// ParseCallTouchpointID returns the call a [CallTouchpointID] names; ok is
// false for any other id. Provider names hold no "/", call ids may.
func ParseCallTouchpointID(id string) (providerName, callID string, ok bool) {
	rest, found := strings.CutPrefix(id, callTouchpointPrefix)
	if !found {
		return "", "", false
	}
	providerName, callID, ok = strings.Cut(rest, "/")
	if !ok || providerName == "" || callID == "" {
		return "", "", false
	}
	return providerName, callID, true
}

// ChatTouchpointID is the natural id of a chat event's touchpoint: one per
// conversation and event type, so a platform's retries and the browser's
// report of the same event are one touchpoint.
func ChatTouchpointID(platform, conversation, eventType string) string {
	return chatTouchpointPrefix + platform + "/" + conversation + "/" + eventType
}

const chatTouchpointPrefix = "chat:"

// ParseChatTouchpointID returns the platform and conversation a
// [ChatTouchpointID] names; ok is false for any other id, and for one
// with an empty platform or conversation. Platform names hold no "/",
// conversations may: the part after the last "/" is the event type.
func ParseChatTouchpointID(id string) (platform, conversation string, ok bool) {
	rest, found := strings.CutPrefix(id, chatTouchpointPrefix)
	if !found {
		return "", "", false
	}
	platform, rest, ok = strings.Cut(rest, "/")
	i := strings.LastIndexByte(rest, '/')
	if !ok || platform == "" || i <= 0 {
		return "", "", false
	}
	return platform, rest[:i], true
}
