package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store"
)

func (s *suite) touchpointReadsOneByIDOrErrNotFound(t *testing.T) {
	st := s.newStore(t)
	tp := touch("chat:intercom/c1/started", journey.TouchChat, "v1", "s1", time.Minute)
	require.NoError(t, st.AddTouchpoint(t.Context(), tp))
	got, err := st.Touchpoint(t.Context(), tp.ID)
	require.NoError(t, err)
	want := tp
	want.At = utcMicro(tp.At)
	require.Equal(t, want, got)
	_, err = st.Touchpoint(t.Context(), "chat:intercom/none/started")
	require.True(t, errors.Is(err, store.ErrNotFound), "unknown id: %v", err)
}
