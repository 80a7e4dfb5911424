package provider

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestStampArrivalGivesTimelessEventsTheirArrival(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return at }
	inbound := CallEvent{Kind: KindInbound}
	stampArrival(&inbound, clock)
	assert.Equal(t, at, inbound.OccurredAt)
	assert.Equal(t, at, inbound.StartedAt, "an inbound call started when it rang")

	status := CallEvent{Kind: KindStatus}
	stampArrival(&status, clock)
	assert.Equal(t, at, status.OccurredAt)
	assert.True(t, status.StartedAt.IsZero(), "a status callback does not say when the call started")

	timed := CallEvent{Kind: KindInbound, OccurredAt: at.Add(-time.Minute)}
	stampArrival(&timed, clock)
	assert.Equal(t, at.Add(-time.Minute), timed.OccurredAt, "a time from the provider is kept")
	assert.True(t, timed.StartedAt.IsZero())
}
