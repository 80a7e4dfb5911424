package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/provider"
	"github.com/attriqs/calltrack/provider/telnyx"
)

// What a hostile webhook leaves after Parse reaches PostgreSQL intact: the
// raw body is BYTEA, so NUL bytes and invalid UTF-8 in it are stored and
// read back byte for byte; the text columns only ever see what
// provider.CleanText made storable.
func TestHostileWebhookIsStored(t *testing.T) {
	st, _ := newStore(t)
	ctx := context.Background()
	body := []byte(`{"data":{"event_type":"call.hangup","occurred_at":"2026-03-01T12:00:00Z","payload":{"call_leg_id":"leg-1",` +
		`"direction":"incoming","from":"+49301234567890123","to":"+18005551212","caller_id_name":"ALICE\u0000 ` + "\xff" + `SMITH",` +
		`"hangup_cause":"normal_clearing","start_time":"2026-03-01T12:00:00Z","end_time":"9999-12-31T23:59:59Z"},"junk":"` + "\xfe" + `"}}`)
	ev, err := telnyx.ParseEvent(body)
	require.NoError(t, err)
	_, err = st.RecordCall(ctx, ev)
	require.NoError(t, err)
	got, err := st.Call(ctx, telnyx.Name, "leg-1")
	require.NoError(t, err)
	require.Equal(t, body, got.Raw)
	require.Equal(t, "ALICE \uFFFDSMITH", got.CallerName)
	require.Equal(t, "", got.From)
	require.Zero(t, got.Duration)

	// Raw is stored as received whatever it holds, NUL bytes included.
	raw := []byte("CallSid=CA1\x00\xff\xfe")
	_, err = st.RecordCall(ctx, provider.CallEvent{Provider: "p", CallID: "raw", Raw: raw})
	require.NoError(t, err)
	got, err = st.Call(ctx, "p", "raw")
	require.NoError(t, err)
	require.Equal(t, raw, got.Raw)
}

// Why adapters clean text: PostgreSQL refuses a NUL byte in a text column,
// so an uncleaned caller name would make the event a poison message.
func TestPostgresRefusesNULInText(t *testing.T) {
	st, _ := newStore(t)
	_, err := st.RecordCall(context.Background(), provider.CallEvent{Provider: "p", CallID: "c", CallerName: "A\x00B"})
	require.Error(t, err)
}
