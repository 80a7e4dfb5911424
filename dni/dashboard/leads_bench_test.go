package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/store/memstore"
)

// BenchmarkLeads is the leads page (its CSV) of a month with 2,500 chats
// of two events each and 2,500 forms, each with a conversion: 5,000 leads
// and 5,000 conversions.
//
//	go test ./dni/dashboard -run x -bench Leads -count 5
func BenchmarkLeads(b *testing.B) {
	const n = 2500
	ctx := context.Background()
	st := memstore.New()
	f := newFixtureWith(b, st, nil)
	start := f.now.Add(-20 * 24 * time.Hour)
	for i := range n {
		at := start.Add(time.Duration(i) * time.Minute)
		visitor, session := fmt.Sprintf("v-%d", i), fmt.Sprintf("s-%d", i)
		conv := fmt.Sprintf("conv-%d", i)
		for j, typ := range []string{"chat_started", "chat_message"} {
			require.NoError(b, st.AddTouchpoint(ctx, journey.Touchpoint{ID: journey.ChatTouchpointID("tawk", conv, typ),
				Kind: journey.TouchChat, At: at.Add(time.Duration(j) * time.Second), VisitorID: visitor, SessionID: session,
				Attrs: map[string]string{"event": typ, "platform": "tawk", "conversation_id": conv}}))
		}
		require.NoError(b, st.PutConversion(ctx, journey.Conversion{ID: "chat:tawk/" + conv + "/chat_conversation",
			Type: journey.ConversionChat, At: at, VisitorID: visitor, SessionID: session, Value: 5000, Currency: "USD"}))
		form := fmt.Sprintf("form:f-%d", i)
		require.NoError(b, st.AddTouchpoint(ctx, journey.Touchpoint{ID: form, Kind: journey.TouchForm, At: at.Add(time.Hour),
			VisitorID: visitor, SessionID: session, Attrs: map[string]string{"form": "quote"}}))
		require.NoError(b, st.PutConversion(ctx, journey.Conversion{ID: journey.FormConversionID(form),
			Type: journey.ConversionForm, At: at.Add(time.Hour), VisitorID: visitor, SessionID: session, Value: 4000, Currency: "USD"}))
	}
	h := f.srv.Config.Handler
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/dashboard/leads?format=csv", nil))
		if w.Code != http.StatusOK {
			b.Fatalf("leads: %d %s", w.Code, w.Body)
		}
	}
}
