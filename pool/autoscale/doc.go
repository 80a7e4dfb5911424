// Package autoscale applies a pool audit's recommended size to a live pool
// through a vendor's [provider.Provisioner]: it grows at once and shrinks by
// draining numbers through their cooldown before releasing them, with a
// dry-run mode and a log of every change.
//
// # How it works
//
// [pool.Audit] (or dni's Service.Audit) reads a pool's holds and recommends
// a size. [Scaler.Plan] turns the report, the pool's leasable numbers and
// the holds into a [Plan]: how many numbers to buy, or which to drain,
// least used first, never more than Config.MaxStep at once and never
// outside Config.MinSize and Config.MaxSize. [Scaler.Apply] carries it out
// through the allocator's [pool.Resizer] capability ([pool.Elastic] has
// it):
//
//   - Grow at once. Numbers still draining go back into service first,
//     since they are still owned; the rest are searched with Config.Query
//     and bought with Config.BuyOptions, whose VoiceURL and FallbackTo are
//     required, so every number joins with its webhook and the carrier's
//     forward to the business line for when the host is down. A bought
//     number joins the pool as soon as the vendor confirms it.
//   - Shrink slowly. A drained number takes no new lease at once, but its
//     live sessions keep it and calls within the grace window still find
//     them. Only when its last hold ended a full cooldown ago does a later
//     Apply release it at the vendor and then remove it from the pool, in
//     that order, so a failure in between leaves a number the next Apply
//     finishes rather than one nobody tracks.
//
// Run it on a schedule (say hourly), with a fresh audit and plan each time:
//
//	report, _ := svc.Audit(ctx, "paid-search", now.Add(-7*24*time.Hour), now)
//	current, _ := elastic.Numbers("paid-search")
//	holds, _ := elastic.Holds("paid-search")
//	res, err := scaler.Apply(ctx, scaler.Plan(report, current, holds))
//
// # Change log and dry run
//
// Every change (buy, add, reclaim, drain, release, remove) is logged with
// slog at Info with the pool, the number, the action and the vendor id, and
// returned in Result.Changes, also when Apply fails part way. With
// Config.DryRun, Apply logs and returns, marked as dry, exactly the changes
// a real run would make on the same state (reclaims, purchases of the
// numbers the vendor offers, releases and removals of finished drains, new
// drains), taking each write to succeed: it reads what a real run reads
// (the pool's draining numbers and their state, the vendor's search and
// list of owned numbers) and writes nothing to either.
//
// # Failures
//
// Errors wrap [ErrVendor] (search, buy, list, release), [ErrPool] (the
// Resizer), [ErrShortSupply] (the search offered too few numbers) or
// [ErrOrphan]. A vendor failure stops growth where it is, with every number
// bought so far in the pool. A bought number the pool refuses is released
// again; if that release fails too, the error wraps ErrOrphan and names the
// number and its vendor id. Drains are idempotent and their state lives in
// the allocator ([pool.Resizer.Draining]), so a failed or interrupted Apply
// is finished by the next one, in this process or another.
package autoscale
