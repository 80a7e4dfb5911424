package autoscale

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/provider"
)

// Action names one kind of change Apply makes.
type Action string

const (
	// ActionBuy: a number was bought at the vendor, webhooks and fail-safe set.
	ActionBuy Action = "buy"
	// ActionAdd: a bought number joined the pool.
	ActionAdd Action = "add"
	// ActionReclaim: a draining number went back into service instead of
	// buying a new one.
	ActionReclaim Action = "reclaim"
	// ActionDrain: a number stopped taking new leases.
	ActionDrain Action = "drain"
	// ActionRelease: a number was released at the vendor (its drain
	// finished, or it was bought but could not join the pool).
	ActionRelease Action = "release"
	// ActionRemove: a drained number left the pool.
	ActionRemove Action = "remove"
)

// Change is one entry of the change log: what happened to which number.
type Change struct {
	At     time.Time
	Pool   string
	Number string
	// ID is the vendor's id, where known: a dry run's buy and add have
	// none, as the vendor assigns it at purchase.
	ID     string
	Action Action
	// DryRun: planned, not done.
	DryRun bool
}

// Result is what Apply did.
type Result struct {
	Plan    Plan
	Changes []Change
	// Draining are the drains still waiting for holds or cooldown. A dry
	// run lists those already under way; a drain it only plans has no
	// state to report until it starts.
	Draining []pool.DrainState
}

// Apply carries out p, in this order:
//
//  1. grow at once: put draining numbers back into service (a finished
//     drain only while the vendor still lists the number), then buy the
//     rest (search, buy with Config.BuyOptions, add); a bought number that
//     cannot join the pool is released again, or reported with [ErrOrphan];
//  2. finish drains: every draining number whose last hold ended a full
//     cooldown ago is released at the vendor, then removed from the pool
//     (a number the vendor no longer lists is only removed);
//  3. start draining p.Drain.
//
// Every change is logged and returned in Result.Changes, also on error.
// Errors wrap [ErrVendor], [ErrPool], [ErrShortSupply] or [ErrOrphan]; the
// pool is consistent after any of them and the next Apply retries what is
// left. Each Apply should carry a fresh [Scaler.Plan]: growth is counted
// from the plan, so re-applying an old plan after a partial success buys
// again.
//
// With Config.DryRun, Apply makes the same reads and decisions as a real
// run and logs, marked dry, the changes that run would make, assuming each
// write succeeds, but writes nothing: no buy, release, add, drain or
// remove. The reads are the Resizer's Draining, its Drain of numbers that
// are already draining (idempotent by the Resizer contract: it only
// reports their state) and the Provisioner's SearchNumbers and
// ListNumbers. A dry run fails where a real run would fail on a read or
// for short supply, with the same errors.
func (s *Scaler) Apply(ctx context.Context, p Plan) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &run{s: s, ctx: ctx, res: Result{Plan: p}, now: s.cfg.Clock()}
	draining, err := s.cfg.Resizer.Draining(ctx, s.cfg.Pool)
	if err != nil {
		return r.res, fmt.Errorf("%w: pool %q: list draining numbers: %w", ErrPool, s.cfg.Pool, err)
	}
	draining, err = r.grow(p.Buy, draining)
	if err != nil {
		return r.res, err
	}
	var errs []error
	for _, n := range draining {
		errs = append(errs, r.finish(n))
	}
	for _, n := range p.Drain {
		st, started, err := r.drain(n)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: pool %q: drain %q: %w", ErrPool, s.cfg.Pool, n, err))
			continue
		}
		r.logChange(Change{Number: n, Action: ActionDrain})
		if started {
			r.res.Draining = append(r.res.Draining, st)
		}
	}
	return r.res, errors.Join(errs...)
}

// run is the state of one Apply.
type run struct {
	s     *Scaler
	ctx   context.Context
	res   Result
	now   time.Time
	owned map[string]provider.OwnedNumber // the vendor's list, read once
}

// logChange records c, marked dry in a dry run.
func (r *run) logChange(c Change) {
	c.At, c.Pool, c.DryRun = r.now, r.s.cfg.Pool, r.s.cfg.DryRun
	r.res.Changes = append(r.res.Changes, c)
	attrs := []any{"pool", c.Pool, "number", c.Number, "action", string(c.Action)}
	if c.ID != "" {
		attrs = append(attrs, "id", c.ID)
	}
	if c.DryRun {
		attrs = append(attrs, "dry_run", true)
	}
	r.s.log.InfoContext(r.ctx, "autoscale: pool change", attrs...)
}

func (r *run) vendorErr(what string, err error) error {
	return fmt.Errorf("%w: pool %q: %s: %w", ErrVendor, r.s.cfg.Pool, what, err)
}

// grow adds need numbers, reclaiming draining ones first, and returns the
// draining numbers it left draining.
func (r *run) grow(need int, draining []string) ([]string, error) {
	cfg := r.s.cfg
	var left []string // draining numbers not reclaimed: finish takes them
	for need > 0 && len(draining) > 0 {
		n := draining[0]
		ok, err := r.reclaimable(n)
		if err != nil {
			return append(left, draining...), err
		}
		if !ok {
			left = append(left, n)
			draining = draining[1:]
			continue
		}
		if err := r.addNumber(n); err != nil {
			return append(left, draining...), fmt.Errorf("%w: pool %q: reclaim %q: %w", ErrPool, cfg.Pool, n, err)
		}
		r.logChange(Change{Number: n, Action: ActionReclaim})
		draining = draining[1:]
		need--
	}
	draining = append(left, draining...)
	if need == 0 {
		return draining, nil
	}
	q := cfg.Query
	q.Limit = max(q.Limit, need)
	offered, err := cfg.Provisioner.SearchNumbers(r.ctx, q)
	if err != nil {
		return draining, r.vendorErr("search", err)
	}
	for _, a := range offered {
		if need == 0 {
			break
		}
		owned, err := r.buy(a.Number)
		if err != nil {
			// The next Apply searches again: another buyer may have taken it.
			return draining, r.vendorErr(fmt.Sprintf("buy %q", a.Number), err)
		}
		if owned.Number == "" {
			owned.Number = a.Number
		}
		r.logChange(Change{Number: owned.Number, ID: owned.ID, Action: ActionBuy})
		if err := r.add(owned); err != nil {
			return draining, err
		}
		need--
	}
	if need > 0 {
		return draining, fmt.Errorf("%w: pool %q: %d more wanted, query %+v", ErrShortSupply, cfg.Pool, need, cfg.Query)
	}
	return draining, nil
}

// The writes: in a dry run (Config.DryRun: read and log, write nothing)
// each is taken to succeed and does nothing.

func (r *run) buy(number string) (provider.OwnedNumber, error) {
	if r.s.cfg.DryRun {
		return provider.OwnedNumber{Number: number}, nil
	}
	return r.s.cfg.Provisioner.BuyNumber(r.ctx, number, r.s.cfg.BuyOptions)
}

func (r *run) addNumber(number string) error {
	if r.s.cfg.DryRun {
		return nil
	}
	return r.s.cfg.Resizer.AddNumbers(r.ctx, r.s.cfg.Pool, number)
}

func (r *run) release(id string) error {
	if r.s.cfg.DryRun {
		return nil
	}
	return r.s.cfg.Provisioner.ReleaseNumber(r.ctx, id)
}

func (r *run) remove(number string) error {
	if r.s.cfg.DryRun {
		return nil
	}
	return r.s.cfg.Resizer.Remove(r.ctx, r.s.cfg.Pool, number, r.now)
}

// drain starts draining number and returns its state; a dry run has
// none to report (started is false).
func (r *run) drain(number string) (st pool.DrainState, started bool, err error) {
	if r.s.cfg.DryRun {
		return pool.DrainState{}, false, nil
	}
	st, err = r.s.cfg.Resizer.Drain(r.ctx, r.s.cfg.Pool, number, r.now)
	return st, err == nil, err
}

// add puts a bought number in the pool, or releases it when it cannot join.
func (r *run) add(owned provider.OwnedNumber) error {
	cfg := r.s.cfg
	addErr := r.addNumber(owned.Number)
	if addErr == nil {
		r.logChange(Change{Number: owned.Number, ID: owned.ID, Action: ActionAdd})
		return nil
	}
	addErr = fmt.Errorf("%w: pool %q: add %q: %w", ErrPool, cfg.Pool, owned.Number, addErr)
	if err := r.release(owned.ID); err != nil {
		r.s.log.ErrorContext(r.ctx, "autoscale: bought number neither added nor released",
			"pool", cfg.Pool, "number", owned.Number, "id", owned.ID, "error", err)
		return errors.Join(addErr, fmt.Errorf("%w: pool %q: number %q (id %q): %w", ErrOrphan, cfg.Pool, owned.Number, owned.ID, err))
	}
	r.logChange(Change{Number: owned.Number, ID: owned.ID, Action: ActionRelease})
	return addErr
}

// reclaimable reports whether a draining number may go back into service:
// a drain that is done may have been released at the vendor by an Apply
// that stopped before removing it, and a number the account no longer
// owns must not be leased again (its calls reach someone else).
func (r *run) reclaimable(number string) (bool, error) {
	cfg := r.s.cfg
	st, err := cfg.Resizer.Drain(r.ctx, cfg.Pool, number, r.now)
	if err != nil {
		return false, fmt.Errorf("%w: pool %q: drain %q: %w", ErrPool, cfg.Pool, number, err)
	}
	if !st.Done {
		return true, nil // never released: release waits for the drain
	}
	if err := r.listOwned(); err != nil {
		return false, err
	}
	_, owned := r.owned[number]
	return owned, nil
}

// listOwned reads the vendor's list of owned numbers, once per Apply.
func (r *run) listOwned() error {
	if r.owned != nil {
		return nil
	}
	list, err := r.s.cfg.Provisioner.ListNumbers(r.ctx)
	if err != nil {
		return r.vendorErr("list numbers", err)
	}
	r.owned = make(map[string]provider.OwnedNumber, len(list))
	for _, o := range list {
		if n, err := pool.ParseNumber(o.Number); err == nil {
			r.owned[n] = o
		}
	}
	return nil
}

// finish releases and removes number if its drain is done.
func (r *run) finish(number string) error {
	cfg := r.s.cfg
	st, err := cfg.Resizer.Drain(r.ctx, cfg.Pool, number, r.now)
	if err != nil {
		return fmt.Errorf("%w: pool %q: drain %q: %w", ErrPool, cfg.Pool, number, err)
	}
	if !st.Done {
		r.res.Draining = append(r.res.Draining, st)
		return nil
	}
	if err := r.listOwned(); err != nil {
		return err
	}
	// A number missing from the vendor's list was released by an earlier
	// Apply that failed before removing it: only the removal is left.
	if o, ok := r.owned[number]; ok {
		if err := r.release(o.ID); err != nil {
			return r.vendorErr(fmt.Sprintf("release %q", number), err)
		}
		r.logChange(Change{Number: number, ID: o.ID, Action: ActionRelease})
	}
	if err := r.remove(number); err != nil {
		return fmt.Errorf("%w: pool %q: remove %q: %w", ErrPool, cfg.Pool, number, err)
	}
	r.logChange(Change{Number: number, Action: ActionRemove})
	return nil
}
