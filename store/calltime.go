package store

import (
	"time"

	"github.com/attriqs/calltrack/journey"
	"github.com/attriqs/calltrack/provider"
)

// FileCall gives a merged call the one time it is known by: the earlier
// of filed (the earliest time its events named so far, or when it was
// first recorded) and [journey.CallTime] of the merged call, which is kept
// as its StartedAt. A provider that stamps a status callback before the
// call's own start (or a start that arrives after a callback) would
// otherwise give the call two times, and qualification would count the
// call as its own earlier call. A call whose events name no time keeps
// its times and is filed at filed. Stores apply it after every merge.
func FileCall(call provider.CallEvent, filed time.Time) (provider.CallEvent, time.Time) {
	t, err := journey.CallTime(call)
	if err != nil {
		return call, filed
	}
	if t.Before(filed) {
		filed = t
	}
	call.StartedAt = filed
	return call, filed
}
