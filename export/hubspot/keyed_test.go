package hubspot_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/export/hubspot"
	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

// A caller number kept keyed (dni.Config.IdentityKey) finds no contact in
// HubSpot: such calls are not queued, rather than sent as a bogus phone.
func TestACallWithAKeyedCallerNumberIsNotQueued(t *testing.T) {
	r := newRig(t, hubspot.Config{})
	keyed, err := journey.PhoneID("+14155550123", []byte("key"))
	require.NoError(t, err)
	require.NoError(t, r.x.Record(t.Context(), qualifiedCall("CA3", keyed.Value)))
	pending, err := r.x.ByState(t.Context(), store.OutboxPending, 0)
	require.NoError(t, err)
	require.Empty(t, pending)
}
