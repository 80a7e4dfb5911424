package provider

import "context"

// CommandRouter is implemented by providers whose calls are connected by a
// REST command rather than by the webhook's answer (Telnyx Call Control,
// which ignores response bodies). For an inbound event that RoutesByCommand
// claims, the Handler acknowledges the webhook at once and then runs
// RouteCall with the chosen Forward on the webhook's own request, after
// its answer is flushed, bounded by CommandTimeout. RouteCall is the one place a Provider does I/O; it must
// be safe to repeat for the same call (a vendor that retries its webhook
// makes the Handler route again), and it retries transient failures itself.
// It applies the Forward's whisper and recording itself, or logs what it
// cannot.
type CommandRouter interface {
	RoutesByCommand(ev CallEvent) bool
	RouteCall(ctx context.Context, f Forward, ev CallEvent) error
}
