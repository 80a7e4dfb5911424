package chat

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// platformCase is one platform's webhook: how it signs a request, a payload
// of each kind it documents, and the events they give.
type platformCase struct {
	wh         Webhook
	wrong      Webhook // same platform, another secret
	unset      Webhook // no secret configured
	sign       func(r *Request, body []byte, at time.Time)
	timestamps bool   // the scheme signs a timestamp
	headerSig  string // the signature header, for header schemes
	token      string // the secret carried in the body, for token schemes
	payloads   []payload
}

type payload struct {
	name string
	body string
	want []Event // nil: ErrIgnoredEvent
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

const hookURL = "https://example.com/dni/v1/chat/hubspot?portal=62515"

var platformCases = []platformCase{
	{
		wh: IntercomWebhook{ClientSecret: "ic-secret"}, wrong: IntercomWebhook{ClientSecret: "other"}, unset: IntercomWebhook{},
		sign:      func(r *Request, b []byte, _ time.Time) { r.Header.Set("X-Hub-Signature", SignIntercom("ic-secret", b)) },
		headerSig: "X-Hub-Signature",
		payloads: []payload{
			{"conversation.user.created", `{"type":"notification_event","app_id":"abc123","data":{"type":"notification_event_data","item":{"type":"conversation","id":"147","created_at":1777636800,"source":{"type":"conversation","author":{"type":"lead","id":"5f1c"}},"contacts":{"type":"contact.list","contacts":[{"type":"contact","id":"5f1c","external_id":null}]},"custom_attributes":{}}},"id":"notif_1","topic":"conversation.user.created","created_at":1777636800}`,
				[]Event{{Platform: Intercom, Type: Started, ConversationID: "147", ContactID: "5f1c", At: time.Unix(1777636800, 0).UTC()}}},
			{"conversation.user.replied", `{"type":"notification_event","data":{"item":{"type":"conversation","id":"147","contacts":{"contacts":[{"id":"5f1c"}]}}},"topic":"conversation.user.replied","created_at":1777636860}`,
				[]Event{{Platform: Intercom, Type: Message, ConversationID: "147", ContactID: "5f1c", At: time.Unix(1777636860, 0).UTC()}}},
			{"contact.lead.created with our attribute", `{"type":"notification_event","data":{"item":{"type":"contact","id":"5f1c","role":"lead","email":"jane@example.com","custom_attributes":{"attriqs_session":"s-42"}}},"topic":"contact.lead.created","created_at":1777636900}`,
				[]Event{{Platform: Intercom, Type: Lead, ContactID: "5f1c", SessionID: "s-42", At: time.Unix(1777636900, 0).UTC()}}},
			{"contact without email", `{"type":"notification_event","data":{"item":{"type":"contact","id":"5f1d","role":"lead"}},"topic":"contact.lead.created","created_at":1777636900}`, nil},
			{"admin reply", `{"type":"notification_event","data":{"item":{"type":"conversation","id":"147"}},"topic":"conversation.admin.replied","created_at":1777636900}`, nil},
			{"a session attribute that is no session id", `{"type":"notification_event","data":{"item":{"type":"contact","id":"5f1c","phone":"+15550100","custom_attributes":{"attriqs_session":"x y/z"}}},"topic":"contact.user.created","created_at":1777636900}`,
				[]Event{{Platform: Intercom, Type: Lead, ContactID: "5f1c", At: time.Unix(1777636900, 0).UTC()}}},
		},
	},
	{
		wh: CrispWebhook{Secret: "cr-secret"}, wrong: CrispWebhook{Secret: "other"}, unset: CrispWebhook{},
		sign: func(r *Request, b []byte, at time.Time) {
			r.Header.Set("X-Crisp-Request-Timestamp", ms(at))
			r.Header.Set("X-Crisp-Signature", SignCrisp("cr-secret", ms(at), b))
		},
		timestamps: true, headerSig: "X-Crisp-Signature",
		payloads: []payload{
			{"message:send from the user", `{"website_id":"42286ab3","event":"message:send","data":{"website_id":"42286ab3","session_id":"session_700c65e1","type":"text","from":"user","origin":"chat","content":"Hello, I need a quote","fingerprint":163408415979085,"user":{"nickname":"visitor607","user_id":"session_700c65e1"},"timestamp":1777636800000},"timestamp":1777636800100}`,
				[]Event{{Platform: Crisp, Type: Message, ConversationID: "session_700c65e1", ContactID: "session_700c65e1", At: time.UnixMilli(1777636800000).UTC()}}},
			{"session:set_email", `{"website_id":"42286ab3","event":"session:set_email","data":{"website_id":"42286ab3","session_id":"session_700c65e1","email":"jane@example.com"},"timestamp":1777636900000}`,
				[]Event{{Platform: Crisp, Type: Lead, ConversationID: "session_700c65e1", At: time.UnixMilli(1777636900000).UTC()}}},
			{"message:received from an operator", `{"website_id":"42286ab3","event":"message:received","data":{"session_id":"session_700c65e1","from":"operator","content":"Hi"},"timestamp":1777636900000}`, nil},
		},
	},
	{
		wh: TawkWebhook{Secret: "tk-secret"}, wrong: TawkWebhook{Secret: "other"}, unset: TawkWebhook{},
		sign:      func(r *Request, b []byte, _ time.Time) { r.Header.Set("X-Tawk-Signature", SignTawk("tk-secret", b)) },
		headerSig: "X-Tawk-Signature",
		payloads: []payload{
			{"chat:start by the visitor", `{"event":"chat:start","chatId":"d9d6ea60-05b4-11eb-8a8c-2bd5a4f6a0b2","time":"2026-05-01T12:00:00.000Z","message":{"text":"Hi there","type":"msg","sender":{"type":"visitor"}},"visitor":{"name":"V1","email":"jane@example.com","city":"Paris","country":"FR"},"property":{"id":"5f6e","name":"Shop"}}`,
				[]Event{{Platform: Tawk, Type: Started, ConversationID: "d9d6ea60-05b4-11eb-8a8c-2bd5a4f6a0b2", At: now}, {Platform: Tawk, Type: Message, ConversationID: "d9d6ea60-05b4-11eb-8a8c-2bd5a4f6a0b2", At: now}}},
			{"chat:start by an agent", `{"event":"chat:start","chatId":"c2","time":"2026-05-01T12:00:00Z","message":{"text":"Can I help?","type":"msg","sender":{"type":"agent"}},"visitor":{"name":"V2"},"property":{"id":"5f6e","name":"Shop"}}`,
				[]Event{{Platform: Tawk, Type: Started, ConversationID: "c2", At: now}}},
			{"ticket:create", `{"event":"ticket:create","time":"2026-05-01T12:00:00Z","property":{"id":"5f6e","name":"Shop"},"requester":{"name":"Jane","email":"jane@example.com","type":"visitor"},"ticket":{"id":"4f9c","humanId":12,"subject":"Quote","message":"..."}}`,
				[]Event{{Platform: Tawk, Type: Lead, ConversationID: "ticket-4f9c", At: now}}},
			{"chat:end", `{"event":"chat:end","chatId":"c2","time":"2026-05-01T12:00:00Z"}`, nil},
		},
	},
	{
		wh: LiveChatWebhook{SecretKey: "lc-secret"}, wrong: LiveChatWebhook{SecretKey: "other"}, unset: LiveChatWebhook{},
		// LiveChat puts the secret key in the payload: the fixtures carry it.
		sign:  func(*Request, []byte, time.Time) {},
		token: "lc-secret",
		payloads: []payload{
			{"incoming_chat with a customer message", `{"webhook_id":"3c3d","secret_key":"lc-secret","action":"incoming_chat","organization_id":"390e","payload":{"chat":{"id":"PJ0MRSHTDG","users":[{"id":"b7eff798-f8df-4364-8059-649c35c9ed0c","type":"customer","name":"Jane","email":"jane@example.com","session_fields":[{"attriqs_session":"s-42"},{"plan":"pro"}]},{"id":"agent@example.com","type":"agent"}],"thread":{"id":"K600PKZON8","created_at":"2026-05-01T12:00:00.000000Z","events":[{"id":"K600PKZON8_1","created_at":"2026-05-01T12:00:00.000000Z","type":"message","text":"hello","author_id":"b7eff798-f8df-4364-8059-649c35c9ed0c"}]}}},"additional_data":{}}`,
				[]Event{
					{Platform: LiveChat, Type: Started, ConversationID: "PJ0MRSHTDG", ContactID: "b7eff798-f8df-4364-8059-649c35c9ed0c", SessionID: "s-42", At: now},
					{Platform: LiveChat, Type: Message, ConversationID: "PJ0MRSHTDG", ContactID: "b7eff798-f8df-4364-8059-649c35c9ed0c", SessionID: "s-42", At: now},
				}},
			{"incoming_chat opened by an agent's greeting", `{"webhook_id":"3c3d","secret_key":"lc-secret","action":"incoming_chat","payload":{"chat":{"id":"PJ0MRSHTDH","users":[{"id":"c1","type":"customer"},{"id":"agent@example.com","type":"agent"}],"thread":{"created_at":"2026-05-01T12:00:00Z","events":[{"type":"message","text":"hi","author_id":"agent@example.com"}]}}}}`,
				[]Event{{Platform: LiveChat, Type: Started, ConversationID: "PJ0MRSHTDH", ContactID: "c1", At: now}}},
			{"incoming_customer with an email", `{"webhook_id":"3c3d","secret_key":"lc-secret","action":"incoming_customer","payload":{"customer":{"id":"c1","type":"customer","email":"jane@example.com","session_fields":[{"attriqs_session":"s-43"}]}}}`,
				[]Event{{Platform: LiveChat, Type: Lead, ContactID: "c1", SessionID: "s-43"}}},
			{"chat_deactivated", `{"webhook_id":"3c3d","secret_key":"lc-secret","action":"chat_deactivated","payload":{"chat_id":"PJ0MRSHTDG"}}`, nil},
		},
	},
	{
		wh: ZendeskWebhook{Secret: "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==", SessionField: "360001234"}, wrong: ZendeskWebhook{Secret: "other"}, unset: ZendeskWebhook{},
		sign: func(r *Request, b []byte, at time.Time) {
			ts := at.UTC().Format(time.RFC3339)
			r.Header.Set("X-Zendesk-Webhook-Signature-Timestamp", ts)
			r.Header.Set("X-Zendesk-Webhook-Signature", SignZendesk("dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==", ts, b))
		},
		timestamps: true, headerSig: "X-Zendesk-Webhook-Signature",
		payloads: []payload{
			{"ticket.created from chat with our tag", `{"account_id":22129848,"detail":{"actor_id":"8447388090494","assignee_id":null,"brand_id":"8447346621310","created_at":"2026-05-01T12:00:00Z","description":"Chat transcript","id":"5158","is_public":true,"requester_id":"8447388090494","status":"NEW","subject":"Chat with Visitor 1","tags":["zopim_chat","attriqs_s-42"],"type":null,"via":{"channel":"chat"}},"event":{},"id":"cbe4028c-7239-495d-b020-f22348516046","subject":"zen:ticket:5158","time":"2026-05-01T12:00:00Z","type":"zen:event-type:ticket.created","zendesk_event_version":"2022-11-06"}`,
				[]Event{{Platform: Zendesk, Type: Started, ConversationID: "5158", ContactID: "8447388090494", SessionID: "s-42", At: now}}},
			{"ticket.created from messaging with our field", `{"account_id":22129848,"detail":{"id":"5159","requester_id":"8447388090495","tags":[],"custom_fields":[{"id":360001234,"value":"s-43"}],"via":{"channel":"native_messaging"}},"id":"cbe4028d","subject":"zen:ticket:5159","time":"2026-05-01T12:00:00Z","type":"zen:event-type:ticket.created"}`,
				[]Event{{Platform: Zendesk, Type: Started, ConversationID: "5159", ContactID: "8447388090495", SessionID: "s-43", At: now}}},
			{"ticket.created by email", `{"detail":{"id":"5160","requester_id":"1","via":{"channel":"email"}},"time":"2026-05-01T12:00:00Z","type":"zen:event-type:ticket.created"}`, nil},
			{"user.created", `{"detail":{"id":"1"},"time":"2026-05-01T12:00:00Z","type":"zen:event-type:user.created"}`, nil},
		},
	},
	{
		wh: HubSpotWebhook{ClientSecret: "hs-secret"}, wrong: HubSpotWebhook{ClientSecret: "other"}, unset: HubSpotWebhook{},
		sign: func(r *Request, b []byte, at time.Time) {
			r.Header.Set("X-HubSpot-Request-Timestamp", ms(at))
			r.Header.Set("X-HubSpot-Signature-v3", SignHubSpot("hs-secret", r.Method, r.URL, b, ms(at)))
		},
		timestamps: true, headerSig: "X-HubSpot-Signature-v3",
		payloads: []payload{
			{"conversation.creation and contact.creation in one batch", `[{"eventId":1,"subscriptionId":2,"portalId":62515,"appId":3,"occurredAt":1777636800000,"subscriptionType":"conversation.creation","attemptNumber":0,"objectId":4242,"changeFlag":"CREATED","changeSource":"CONVERSATIONS"},{"eventId":2,"subscriptionId":4,"portalId":62515,"appId":3,"occurredAt":1777636860000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":901,"changeFlag":"CREATED","changeSource":"CRM"}]`,
				[]Event{{Platform: HubSpot, Type: Started, ConversationID: "4242", At: time.UnixMilli(1777636800000).UTC()}, {Platform: HubSpot, Type: Lead, ContactID: "901", At: time.UnixMilli(1777636860000).UTC()}}},
			{"conversation.newMessage says nothing of its author", `[{"eventId":3,"portalId":62515,"occurredAt":1777636800000,"subscriptionType":"conversation.newMessage","objectId":4242,"messageId":"bc7a","messageType":"MESSAGE","changeFlag":"NEW_MESSAGE"}]`, nil},
		},
	},
	{
		wh: DriftWebhook{VerificationToken: "dr-token"}, wrong: DriftWebhook{VerificationToken: "other"}, unset: DriftWebhook{},
		sign:  func(*Request, []byte, time.Time) {},
		token: "dr-token",
		payloads: []payload{
			{"new_conversation", `{"orgId":1,"type":"new_conversation","token":"dr-token","data":{"id":123,"status":"open","contactId":9001,"inboxId":1,"createdAt":1777636800000}}`,
				[]Event{{Platform: Drift, Type: Started, ConversationID: "123", ContactID: "9001", At: time.UnixMilli(1777636800000).UTC()}}},
			{"new_message from the contact", `{"orgId":1,"type":"new_message","token":"dr-token","data":{"id":555,"orgId":1,"body":"I need a quote","author":{"id":9001,"type":"contact","bot":false},"conversationId":123,"type":"chat","createdAt":1777636810000}}`,
				[]Event{{Platform: Drift, Type: Message, ConversationID: "123", ContactID: "9001", At: time.UnixMilli(1777636810000).UTC()}}},
			{"new_message from a user (agent)", `{"orgId":1,"type":"new_message","token":"dr-token","data":{"id":556,"author":{"id":7,"type":"user","bot":false},"conversationId":123,"type":"chat","createdAt":1777636820000}}`, nil},
			{"new_message from the bot", `{"orgId":1,"type":"new_message","token":"dr-token","data":{"id":557,"author":{"id":8,"type":"contact","bot":true},"conversationId":123,"type":"chat","createdAt":1777636820000}}`, nil},
			{"contact_identified", `{"orgId":1,"type":"contact_identified","token":"dr-token","data":{"id":9001,"createdAt":1777636830000,"attributes":{"email":"jane@example.com","attriqs_session":"s-42"}}}`,
				[]Event{{Platform: Drift, Type: Lead, ContactID: "9001", SessionID: "s-42", At: time.UnixMilli(1777636830000).UTC()}}},
		},
	},
}

func request(c platformCase, body string, at time.Time) Request {
	r := Request{Method: http.MethodPost, URL: hookURL, Header: http.Header{}, Body: []byte(body)}
	c.sign(&r, r.Body, at)
	return r
}

func TestWebhooks(t *testing.T) {
	if len(platformCases) != 7 {
		t.Fatalf("%d platforms with webhooks, want 7", len(platformCases))
	}
	for _, c := range platformCases {
		t.Run(c.wh.Platform(), func(t *testing.T) {
			for _, p := range c.payloads {
				t.Run(p.name, func(t *testing.T) {
					r := request(c, p.body, now)
					if err := c.wh.Verify(r, now); err != nil {
						t.Fatalf("Verify of a genuine request = %v", err)
					}
					got, err := c.wh.Parse(r.Body)
					if p.want == nil {
						if !errors.Is(err, ErrIgnoredEvent) || got != nil {
							t.Errorf("Parse = %v, %v; want ErrIgnoredEvent", got, err)
						}
						return
					}
					if err != nil {
						t.Fatalf("Parse = %v", err)
					}
					if !reflect.DeepEqual(got, p.want) {
						t.Errorf("Parse =\n%+v\nwant\n%+v", got, p.want)
					}
					for _, ev := range got {
						if err := ev.Validate(); err != nil {
							t.Errorf("%+v: %v", ev, err)
						}
					}
				})
			}
			body := c.payloads[0].body
			rejects := []struct {
				name string
				wh   Webhook
				r    Request
				at   time.Time
				want error
			}{
				{"tampered body", c.wh, func() Request {
					r := request(c, body, now)
					r.Body = []byte(strings.Replace(string(r.Body), `"`, ` "`, 1))
					return r
				}(), now, ErrBadSignature},
				{"another secret", c.wrong, request(c, body, now), now, ErrBadSignature},
				{"no secret configured", c.unset, request(c, body, now), now, ErrNoSecret},
			}
			if c.token != "" {
				// The secret travels in the body: a forged or missing one.
				forged, missing := request(c, body, now), request(c, body, now)
				forged.Body = []byte(strings.Replace(body, `"`+c.token+`"`, `"forged"`, 1))
				missing.Body = []byte(strings.Replace(body, `"`+c.token+`"`, `""`, 1))
				rejects[0].r, rejects[0].name = forged, "forged token"
				rejects = append(rejects, struct {
					name string
					wh   Webhook
					r    Request
					at   time.Time
					want error
				}{"no token", c.wh, missing, now, ErrMissingSignature})
			}
			if c.headerSig != "" {
				noSig := request(c, body, now)
				noSig.Header.Del(c.headerSig)
				garbled := request(c, body, now)
				garbled.Header.Set(c.headerSig, "%%not-a-signature%%")
				rejects = append(rejects,
					struct {
						name string
						wh   Webhook
						r    Request
						at   time.Time
						want error
					}{"no signature", c.wh, noSig, now, ErrMissingSignature},
					struct {
						name string
						wh   Webhook
						r    Request
						at   time.Time
						want error
					}{"garbled signature", c.wh, garbled, now, ErrMalformedSignature})
			}
			if c.timestamps {
				rejects = append(rejects,
					struct {
						name string
						wh   Webhook
						r    Request
						at   time.Time
						want error
					}{"signed six minutes ago", c.wh, request(c, body, now.Add(-6*time.Minute)), now, ErrStaleTimestamp},
					struct {
						name string
						wh   Webhook
						r    Request
						at   time.Time
						want error
					}{"signed six minutes ahead", c.wh, request(c, body, now.Add(6*time.Minute)), now, ErrStaleTimestamp})
				if err := c.wh.Verify(request(c, body, now.Add(-4*time.Minute)), now); err != nil {
					t.Errorf("signed four minutes ago: %v, want accepted", err)
				}
			}
			for _, x := range rejects {
				err := x.wh.Verify(x.r, x.at)
				if !errors.Is(err, x.want) {
					t.Errorf("%s: Verify = %v, want %v", x.name, err, x.want)
				}
			}
			if _, err := c.wh.Parse([]byte(`{"not":`)); !errors.Is(err, ErrMalformedPayload) {
				t.Errorf("Parse of broken JSON = %v, want ErrMalformedPayload", err)
			}
			if _, err := c.wh.Parse([]byte(`{}`)); !errors.Is(err, ErrMalformedPayload) && !errors.Is(err, ErrIgnoredEvent) {
				t.Errorf("Parse of {} = %v, want ErrMalformedPayload or ErrIgnoredEvent", err)
			}
		})
	}
}

func TestNoPayloadTextLeaks(t *testing.T) {
	// Events have no field that could hold text, a name or an email; this
	// pins that down should one be added.
	for i := range reflect.TypeFor[Event]().NumField() {
		f := reflect.TypeFor[Event]().Field(i)
		switch f.Name {
		case "Platform", "Type", "ConversationID", "ContactID", "SessionID", "At":
		default:
			t.Errorf("Event.%s: a new field must be checked for privacy", f.Name)
		}
	}
	for _, c := range platformCases {
		for _, p := range c.payloads {
			evs, _ := c.wh.Parse([]byte(p.body))
			for _, ev := range evs {
				s := ev.ConversationID + ev.ContactID + ev.SessionID
				if strings.Contains(s, "@") || strings.Contains(s, "quote") || strings.Contains(s, "hello") {
					t.Errorf("%s/%s: %+v carries payload text", c.wh.Platform(), p.name, ev)
				}
			}
		}
	}
}

// HubSpot signs the URI with some percent-encodings decoded.
func TestHubSpotURIDecoding(t *testing.T) {
	body := []byte(`[]`)
	ts := ms(now)
	sig := SignHubSpot("s", "POST", "https://example.com/hook?x=a:b/c", body, ts)
	if err := VerifyHubSpot("s", "POST", "https://example.com/hook?x=a%3Ab%2Fc", body, ts, sig, now, 0); err != nil {
		t.Errorf("encoded URI: %v", err)
	}
	if err := VerifyHubSpot("s", "GET", "https://example.com/hook?x=a:b/c", body, ts, sig, now, 0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("another method: %v, want ErrBadSignature", err)
	}
}

type fakeRecorder struct {
	got []Event
	err error
}

func (f *fakeRecorder) RecordChat(_ context.Context, evs []Event) error {
	f.got = append(f.got, evs...)
	return f.err
}

func TestHandler(t *testing.T) {
	c := platformCases[1] // Crisp: header signature with a timestamp
	opts := HandlerOptions{Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)}
	for _, x := range []struct {
		name   string
		body   string
		sign   bool
		recErr error
		status int
		events int
	}{
		{"genuine", c.payloads[0].body, true, nil, 200, 1},
		{"unsigned", c.payloads[0].body, false, nil, 401, 0},
		{"ignored", c.payloads[2].body, true, nil, 200, 0},
		{"malformed", `{"event":"message:send","data":{}}`, true, nil, 400, 0},
		{"store down", c.payloads[0].body, true, errors.New("down"), 500, 1},
	} {
		t.Run(x.name, func(t *testing.T) {
			rec := &fakeRecorder{err: x.recErr}
			req := httptest.NewRequest(http.MethodPost, "/dni/v1/chat/crisp", strings.NewReader(x.body))
			if x.sign {
				r := request(c, x.body, now)
				req.Header = r.Header
			}
			w := httptest.NewRecorder()
			Handler(c.wh, rec, opts).ServeHTTP(w, req)
			if w.Code != x.status || len(rec.got) != x.events {
				t.Errorf("status %d, %d events recorded; want %d, %d", w.Code, len(rec.got), x.status, x.events)
			}
		})
	}
	w := httptest.NewRecorder()
	Handler(c.wh, &fakeRecorder{}, opts).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", w.Code)
	}
}

func TestEventValidateAndIDs(t *testing.T) {
	ev := Event{Platform: Tawk, Type: Started, ConversationID: "c1", At: now}
	if err := ev.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := ev.TouchpointID(); got != "chat:tawk/c1/chat_started" {
		t.Errorf("TouchpointID = %q", got)
	}
	if got := (Event{Platform: Tidio, Type: Opened, SessionID: "s-1"}).TouchpointID(); got != "chat:tidio/session-s-1/chat_opened" {
		t.Errorf("TouchpointID without conversation = %q", got)
	}
	bad := Event{Platform: "a/b", Type: "chat_typed", SessionID: "x y"}
	err := bad.Validate()
	for _, field := range []string{"platform", "type", "session_id"} {
		if !errors.Is(err, ErrInvalidEvent) || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate = %v, want an error naming %s", err, field)
		}
	}
	if err := (Event{Platform: Crisp, Type: Lead}).Validate(); err == nil {
		t.Error("an event with nothing to join by is valid")
	}
	r := Rule{Name: "chat_lead", Types: []Type{Lead}, Platforms: []string{Intercom}, Value: 5000, Currency: "USD"}
	for _, x := range []struct {
		ev   Event
		want bool
	}{
		{Event{Platform: Intercom, Type: Lead}, true},
		{Event{Platform: Intercom, Type: Message}, false},
		{Event{Platform: Crisp, Type: Lead}, false},
	} {
		if got := r.Matches(x.ev); got != x.want {
			t.Errorf("Matches(%+v) = %v", x.ev, got)
		}
	}
	if (Rule{}).Matches(Event{Platform: Intercom, Type: Lead}) {
		t.Error("the zero rule matches")
	}
	if got := r.ConversionID(Event{Platform: Intercom, Type: Lead, ConversationID: "9"}); got != "chat:intercom/9/chat_lead" {
		t.Errorf("ConversionID = %q", got)
	}
	if len(Platforms()) != 8 {
		t.Errorf("Platforms = %v", Platforms())
	}
}
