package dashboard

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/phone"
	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/report"
)

// Human names: a dashboard reader sees "Chat started (Intercom)", never a
// kind and a channel, and "Qualified call", never "call_conversion".

var platformNames = map[string]string{
	"crisp": "Crisp", "drift": "Drift", "hubspot": "HubSpot", "intercom": "Intercom",
	"livechat": "LiveChat", "tawk": "Tawk.to", "tidio": "Tidio", "zendesk": "Zendesk",
}

// platformName is a chat platform as its vendor writes it.
func platformName(p string) string {
	if n, ok := platformNames[p]; ok {
		return n
	}
	if p == "" {
		return "chat widget"
	}
	return strings.ToUpper(p[:1]) + p[1:]
}

var chatEvents = map[string]string{
	"chat_opened": "Chat opened", "chat_started": "Chat started",
	"chat_message": "Chat message", "chat_lead": "Chat lead (contact details left)",
}

var conversionNames = map[string]string{
	journey.ConversionCall: "Qualified call", journey.ConversionPurchase: "Purchase",
	journey.ConversionForm: "Form conversion", "chat_lead": "Chat lead",
}

// conversionName is a conversion type's human name; a type the host made
// up is shown with its underscores as spaces.
func conversionName(typ string) string {
	if n, ok := conversionNames[typ]; ok {
		return n
	}
	s := strings.ReplaceAll(typ, "_", " ")
	if s == "" {
		return "Conversion"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

var modelNames = map[string]string{
	"first_touch": "First touch", "last_touch": "Last touch", "last_non_direct": "Last non-direct",
	"linear": "Linear", "time_decay": "Time decay", "position_based": "Position-based (U)",
	"w_shaped": "W-shaped", "full_path": "Full path (Z)", "markov": "Markov chain",
	"shapley": "Shapley value", "ordered_shapley": "Ordered Shapley",
}

// modelName is an attribution model's human name.
func modelName(m string) string {
	if n, ok := modelNames[m]; ok {
		return n
	}
	return strings.ReplaceAll(m, "_", " ")
}

// touchpointTitle names one step of a journey.
func touchpointTitle(tp journey.Touchpoint) string {
	switch tp.Kind {
	case journey.TouchSession:
		return "Visit from " + sourceName(tp)
	case journey.TouchCall:
		return "Phone call"
	case journey.TouchChat:
		ev, ok := chatEvents[tp.Attrs["event"]]
		if !ok {
			ev = "Chat"
		}
		return ev + " (" + platformName(tp.Attrs["platform"]) + ")"
	case journey.TouchForm:
		if n := tp.Attrs["name"]; n != "" {
			return "Form sent: " + n
		}
		return "Form sent"
	case journey.TouchCustom:
		if n := tp.Attrs["name"]; n != "" {
			return "Event: " + n
		}
	}
	return "Event"
}

// sourceName says where a touchpoint came from: its channel, and the
// source and medium when they add anything.
func sourceName(tp journey.Touchpoint) string {
	s := tp.Source
	name := string(s.Channel)
	if name == "" {
		name = "an unknown source"
	}
	if s.Source != "" && s.Source != "(direct)" {
		name += " (" + s.Source
		if s.Medium != "" && s.Medium != "(none)" {
			name += " / " + s.Medium
		}
		name += ")"
	}
	return name
}

// touchpointDetail is the second line of a journey step.
func touchpointDetail(tp journey.Touchpoint) string {
	var parts []string
	if tp.Kind != journey.TouchSession {
		parts = append(parts, "during a visit from "+sourceName(tp))
	}
	if c := tp.Source.Campaign; c != "" {
		parts = append(parts, "campaign "+c)
	}
	if k := tp.Source.Term; k != "" {
		parts = append(parts, "keyword "+k)
	}
	if tp.Kind == journey.TouchCall {
		if st := tp.Attrs[journey.AttrOutcome]; st != "" {
			parts = append(parts, words(st))
		} else if st := tp.Attrs["status"]; st != "" {
			parts = append(parts, words(st))
		}
		if t := tp.Attrs["talk_s"]; t != "" {
			parts = append(parts, talk(t)+" talk")
		}
		if sp := tp.Attrs[journey.AttrSpam]; sp != "" {
			parts = append(parts, "spam: "+sp)
		}
	}
	return strings.Join(parts, " · ")
}

// talk writes seconds as "1 min 30 s".
func talk(seconds string) string {
	n, err := strconv.Atoi(seconds)
	if err != nil || n < 0 {
		return seconds + " s"
	}
	return duration(n)
}

func duration(n int) string {
	switch {
	case n < 60:
		return fmt.Sprintf("%d s", n)
	case n%60 == 0:
		return fmt.Sprintf("%d min", n/60)
	}
	return fmt.Sprintf("%d min %d s", n/60, n%60)
}

// callOutcome says what happened to a call in words.
func callOutcome(c provider.CallEvent, missed bool, spam string) string {
	switch {
	case spam != "":
		return "spam (" + spam + ")"
	case missed:
		if c.Outcome != provider.OutcomeUnknown {
			return "missed: " + words(string(c.Outcome))
		}
		return "missed"
	case journey.Answered(c):
		return "answered"
	}
	return words(string(c.Status))
}

// words writes a status or outcome code as words: "no-answer" and
// "no_answer" are "no answer".
func words(code string) string {
	return strings.NewReplacer("-", " ", "_", " ").Replace(code)
}

// chatOrder is the order of a conversation's events: a chat is opened,
// then started, then written in, whatever times the widget and the
// platform stamped them with.
var chatOrder = map[string]int{"chat_opened": 0, "chat_started": 1, "chat_message": 2, "chat_lead": 3}

// kindOrder orders the steps of one instant: the visit, what the visitor
// did on it, the call, then what it converted to.
var kindOrder = map[journey.TouchKind]int{journey.TouchSession: 0, journey.TouchChat: 1, journey.TouchForm: 2,
	journey.TouchCustom: 3, journey.TouchCall: 4}

// number writes a phone number as its country does; a number stored as a
// keyed hash (Config.IdentityKey) is never shown.
func number(n string) string {
	switch {
	case n == "":
		return "withheld"
	case journey.IsKeyed(n):
		return "hidden (stored hashed)"
	}
	return phone.National(n)
}

var symbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥", "INR": "₹"}

// money writes minor units of a currency for people: "$250.00", with the
// currency's own minor digits (report.FormatMoney).
func money(minor int64, currency string) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	sym, ok := symbols[currency]
	if !ok {
		sym = currency + " "
	}
	return sign + sym + report.FormatMoney(minor, currency)
}

// minorDigits is how many minor-unit digits currency has.
func minorDigits(currency string) int {
	_, frac, _ := strings.Cut(report.FormatMoney(1, currency), ".")
	return len(frac)
}

// amounts is money in one or more currencies, never summed across them.
type amounts map[string]int64

func (a amounts) add(currency string, v int64) {
	a[currency] += v
}

// text writes the amounts; none at all is zero of the default currency.
func (a amounts) text(def string) string {
	if len(a) == 0 {
		return money(0, def)
	}
	var parts []string
	for _, c := range sortedKeys(a) {
		parts = append(parts, money(a[c], c))
	}
	return strings.Join(parts, " + ")
}
