// Package chat attributes chat conversations: the provider-neutral chat
// [Event], and the server-side webhook parsers, with their signature
// checks, of the chat platforms whose widgets the browser tracker detects.
//
// # Platforms
//
// The tracker (package dni/tracker, module chat.js) detects eight widgets
// by their documented globals, subscribes to their JavaScript events and
// posts chat_opened, chat_started, chat_message (the visitor's messages
// only) and chat_lead to dni's v1/events, once per conversation, with the
// platform's conversation and contact ids. It writes our session id into
// the platform where the API allows, under [SessionAttribute]:
//
//	platform  detected by                       session id written with
//	intercom  window.Intercom                   Intercom('update', {attriqs_session})
//	drift     window.drift                      drift.api.setUserAttributes
//	hubspot   window.HubSpotConversations       _hsq.push(['identify', {attriqs_session}])
//	zendesk   window.zE (Messaging, Classic)    messenger:set conversationFields (data-zendesk-field); Classic chat:addTags
//	crisp     window.$crisp                     $crisp.push(['set', 'session:data', ...])
//	tawk      window.Tawk_API                   Tawk_API.setAttributes({'attriqs-session'})
//	tidio     window.tidioChatApi               tidioChatApi.setContactProperties
//	livechat  window.LiveChatWidget             LiveChatWidget.call('update_session_variables')
//
// Some platforms keep the value only when the site prepared for it, as
// their documentation says: Intercom, a custom attribute attriqs_session
// created as writable from the Messenger; Tidio, a contact property of that
// name created in its panel; Zendesk Messaging, a custom ticket field that
// end users may set (its id in data-zendesk-field); HubSpot, a contact
// property, sent with HubSpot's next tracked page view or event. Where the
// value cannot be kept, the platform's own conversation and contact ids,
// which the tracker reports with every event, still join the chat.
//
// No message text, name or email address leaves the page; a keyed email
// hash is not computed in this version.
//
// # Webhooks
//
// Seven platforms send webhooks; Tidio does not. Each has a [Webhook]
// (IntercomWebhook, CrispWebhook, TawkWebhook, LiveChatWebhook,
// ZendeskWebhook, HubSpotWebhook, DriftWebhook) whose Verify is a pure
// function of the request and the time, returning one sentinel per failure
// ([ErrMissingSignature], [ErrMissingTimestamp], [ErrMalformedSignature],
// [ErrBadSignature], [ErrStaleTimestamp], [ErrNoSecret]: package
// webhooksig's, which calltrack's other webhook verifiers return too), with
// an exported signer per scheme for fixtures:
//
//	intercom  X-Hub-Signature: "sha1=" hex HMAC-SHA1(client secret, body)
//	crisp     X-Crisp-Signature: hex HMAC-SHA256(secret, "[" timestamp ";" body "]"), timestamp within 5 min
//	tawk      X-Tawk-Signature: hex HMAC-SHA1(secret, body)
//	livechat  secret_key in the payload
//	zendesk   X-Zendesk-Webhook-Signature: base64 HMAC-SHA256(secret, timestamp + body), timestamp within 5 min
//	hubspot   X-HubSpot-Signature-v3: base64 HMAC-SHA256(client secret, method + URI + body + timestamp), within 5 min
//	drift     verification token in the payload
//
// Parse turns a verified body into events, or returns [ErrIgnoredEvent] for
// what chat attribution does not record (an agent's or a bot's message, a
// closed chat) and [ErrMalformedPayload] for what it cannot read. [Handler]
// serves one platform's endpoint and hands the events to a [Recorder].
//
// # Joining
//
// A server-side event joins a session by the session id the platform
// echoed (Event.SessionID), else through the identity graph, by the
// conversation or contact id an earlier verified webhook linked to a
// person, else by the session that first reported (claimed) the
// conversation id, then the contact id, through the tracker. The tracker's
// ids are claims: anyone can post them, so dni links them to a visitor
// only when a verified webhook joins them, and never merges two people on
// a chat id. [Event.TouchpointID] is the natural id dni gives the
// tracker's event for the same conversation and type when that visitor
// owns the conversation, so an event reported by both the browser and the
// webhook is recorded once.
//
// # Conversions
//
// A [Rule] makes chat events conversions (for example every chat_lead is
// worth $50): [Rule.Matches] and [Rule.ConversionID], one conversion per
// conversation and rule.
package chat
