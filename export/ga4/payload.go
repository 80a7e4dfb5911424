package ga4

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The Measurement Protocol's documented limits (sending-events#limitations).
const (
	MaxEvents        = 25      // events per request
	MaxParams        = 25      // parameters per event
	MaxNameLen       = 40      // characters of an event or parameter name
	MaxParamValueLen = 100     // characters of a parameter value (standard properties)
	MaxBodyBytes     = 130_000 // "the post body must be smaller than 130kB"
)

// Payload is the JSON body of a Measurement Protocol request, as far as
// the sink uses it.
type Payload struct {
	ClientID        string `json:"client_id"`
	TimestampMicros int64  `json:"timestamp_micros,omitempty"`
	// NonPersonalizedAds is deprecated by Google in favour of
	// Consent.AdPersonalization; the sink sets both, for properties and
	// tools that read only the older field.
	NonPersonalizedAds bool     `json:"non_personalized_ads,omitempty"`
	Consent            *Consent `json:"consent,omitempty"`
	Events             []Event  `json:"events"`
}

// Consent is the request's consent object: "GRANTED" or "DENIED" each, or
// empty to leave GA with the consent of the client's online events.
type Consent struct {
	AdUserData        string `json:"ad_user_data,omitempty"`
	AdPersonalization string `json:"ad_personalization,omitempty"`
}

// Event is one event of a request. Parameter values are strings or
// numbers (json.Number keeps a decimal value exact).
type Event struct {
	Name   string         `json:"name"`
	Params map[string]any `json:"params,omitempty"`
}

// ValidationMessage is one problem with a payload, in the shape of the
// validation server's answer (/debug/mp/collect).
type ValidationMessage struct {
	FieldPath      string `json:"fieldPath"`
	Description    string `json:"description"`
	ValidationCode string `json:"validationCode"`
}

// The validation server's codes the sink's own checks use.
const (
	CodeValueInvalid        = "VALUE_INVALID"
	CodeValueRequired       = "VALUE_REQUIRED"
	CodeNameInvalid         = "NAME_INVALID"
	CodeNameReserved        = "NAME_RESERVED"
	CodeValueOutOfBounds    = "VALUE_OUT_OF_BOUNDS"
	CodeExceededMaxEntities = "EXCEEDED_MAX_ENTITIES"
)

// ValidationError lists what is wrong with a payload: found by the sink
// before sending, or answered by the validation server in debug mode. It
// is permanent: the same payload fails again.
type ValidationError struct {
	Messages []ValidationMessage
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Messages))
	for i, m := range e.Messages {
		parts[i] = fmt.Sprintf("%s: %s (%s)", m.FieldPath, m.Description, m.ValidationCode)
	}
	return "ga4: invalid payload: " + strings.Join(parts, "; ")
}

// Permanent marks the error for the exporter: the message is dead-lettered.
func (e *ValidationError) Permanent() bool { return true }

// Reserved names (reference#reserved_names). ad_impression, in_app_purchase
// and screen_view are allowed for app streams only; the sink sends to web
// streams.
var reservedEventNames = map[string]bool{
	"ad_activeview": true, "ad_click": true, "ad_exposure": true, "ad_query": true, "ad_reward": true,
	"adunit_exposure": true, "app_clear_data": true, "app_exception": true, "app_install": true,
	"app_remove": true, "app_store_refund": true, "app_update": true, "app_upgrade": true,
	"dynamic_link_app_open": true, "dynamic_link_app_update": true, "dynamic_link_first_open": true,
	"error": true, "firebase_campaign": true, "firebase_in_app_message_action": true,
	"firebase_in_app_message_dismiss": true, "firebase_in_app_message_impression": true,
	"first_open": true, "first_visit": true, "notification_dismiss": true, "notification_foreground": true,
	"notification_open": true, "notification_receive": true, "notification_send": true, "os_update": true,
	"session_start": true, "user_engagement": true,
	"ad_impression": true, "in_app_purchase": true, "screen_view": true,
}

var reservedParamNames = map[string]bool{"firebase_conversion": true}

// reservedPrefixes are reserved for parameter names; Firebase documents
// the same for event names ("_" cannot start one anyway).
var reservedPrefixes = []string{"_", "firebase_", "ga_", "google_", "gtag."}

// checkName reports what is wrong with an event or parameter name, or "".
// Letters and digits are Unicode ones, as GA counts them.
func checkName(name string) (code, why string) {
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return CodeValueRequired, "the name is empty"
	case n > MaxNameLen:
		return CodeValueOutOfBounds, fmt.Sprintf("the name has %d characters, more than %d", n, MaxNameLen)
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(name, p) {
			return CodeNameReserved, fmt.Sprintf("names may not start with %q", p)
		}
	}
	first, _ := utf8.DecodeRuneInString(name)
	if !unicode.IsLetter(first) {
		return CodeNameInvalid, "names must start with a letter"
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' {
			return CodeNameInvalid, fmt.Sprintf("names hold only letters, digits and underscores, not %q", r)
		}
	}
	return "", ""
}

// CheckEventName returns nil when name may name a web stream's event.
func CheckEventName(name string) error {
	if code, why := checkName(name); code != "" {
		return fmt.Errorf("event name %q: %s (%s)", name, why, code)
	}
	if reservedEventNames[name] {
		return fmt.Errorf("event name %q is reserved (%s)", name, CodeNameReserved)
	}
	return nil
}

// Validate checks p against the Measurement Protocol's documented rules,
// which the endpoint does not check for us (it answers 2xx to anything
// it received): a client id of two positive numbers joined by a period,
// 1 to 25 events, event names and parameter names (letters, digits and
// underscores, starting with a letter, at most 40 characters, not
// reserved), at most 25 parameters per event, string values of at most 100
// characters, a consent of GRANTED or DENIED. It returns a
// [*ValidationError] naming each field at fault, or nil.
func (p Payload) Validate() error {
	var msgs []ValidationMessage
	add := func(path, code, why string) {
		msgs = append(msgs, ValidationMessage{FieldPath: path, Description: why, ValidationCode: code})
	}
	switch {
	case p.ClientID == "":
		add("client_id", CodeValueRequired, "the GA client id is empty")
	case !validClientID(p.ClientID):
		add("client_id", CodeValueInvalid, fmt.Sprintf("%q is not two positive numbers joined by a period", p.ClientID))
	}
	if p.TimestampMicros < 0 {
		add("timestamp_micros", CodeValueInvalid, "the timestamp is negative")
	}
	if c := p.Consent; c != nil {
		for path, v := range map[string]string{"consent.ad_user_data": c.AdUserData, "consent.ad_personalization": c.AdPersonalization} {
			if v != "" && v != "GRANTED" && v != "DENIED" {
				add(path, CodeValueInvalid, fmt.Sprintf("%q is neither GRANTED nor DENIED", v))
			}
		}
	}
	switch n := len(p.Events); {
	case n == 0:
		add("events", CodeValueRequired, "there are no events")
	case n > MaxEvents:
		add("events", CodeExceededMaxEntities, fmt.Sprintf("%d events, more than %d", n, MaxEvents))
	}
	for i, ev := range p.Events {
		path := fmt.Sprintf("events[%d]", i)
		if code, why := checkName(ev.Name); code != "" {
			add(path+".name", code, why)
		} else if reservedEventNames[ev.Name] {
			add(path+".name", CodeNameReserved, fmt.Sprintf("%q is a reserved event name", ev.Name))
		}
		if len(ev.Params) > MaxParams {
			add(path+".params", CodeExceededMaxEntities, fmt.Sprintf("%d parameters, more than %d", len(ev.Params), MaxParams))
		}
		for name, v := range ev.Params {
			ppath := path + ".params." + name
			if code, why := checkName(name); code != "" {
				add(ppath, code, why)
			} else if reservedParamNames[name] {
				add(ppath, CodeNameReserved, fmt.Sprintf("%q is a reserved parameter name", name))
			}
			switch v := v.(type) {
			case string:
				if n := utf8.RuneCountInString(v); n > MaxParamValueLen {
					add(ppath, CodeValueOutOfBounds, fmt.Sprintf("the value has %d characters, more than %d", n, MaxParamValueLen))
				}
			case json.Number, int, int64, float64, bool:
			default:
				add(ppath, CodeValueInvalid, fmt.Sprintf("a %T is neither a string nor a number", v))
			}
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	// The consent and params maps iterate at random: sort so an error
	// reads the same every time.
	slices.SortStableFunc(msgs, func(a, b ValidationMessage) int { return strings.Compare(a.FieldPath, b.FieldPath) })
	return &ValidationError{Messages: msgs}
}

// validClientID: "two positive numbers, joined by a period" (reference),
// as gtag.js makes them: "1234567890.1700000000".
func validClientID(id string) bool {
	a, b, ok := strings.Cut(id, ".")
	return ok && positiveNumber(a) && positiveNumber(b)
}

func positiveNumber(s string) bool {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return false
	}
	return strings.Trim(s, "0") != ""
}
