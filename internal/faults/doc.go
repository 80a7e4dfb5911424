// Package faults is the fault suite: tests that treat a running calltrack
// service as an operator's worst day would (kill -9 while webhooks arrive,
// a store that stops, hangs and restarts, an unusable spool directory,
// poison webhooks from every vendor) and report, for each, the events
// sent, answered, recorded, lost and duplicated. It has no API; its tests
// are the product. docs/reliability.md holds the figures and the command
// behind each.
//
// CALLTRACK_FAULT_KILLS sets how many times the kill test kills the
// service (default 25; CI runs 120).
package faults
