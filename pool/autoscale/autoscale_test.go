package autoscale_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/pool/autoscale"
	"github.com/attriqs/calltrack/provider"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

const business = "+12125550100"

func numbers(from, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+1415200%04d", from+i)
	}
	return out
}

// rig is an Elastic pool whose numbers the fake vendor owns, a Scaler over
// both, a settable clock and the captured log.
type rig struct {
	pool   *pool.Elastic
	vendor *fakeVendor
	scaler *autoscale.Scaler
	now    time.Time
	log    *bytes.Buffer
	// dry is a Scaler with the same Config and DryRun set, logging to dryLog.
	dry    *autoscale.Scaler
	dryLog *bytes.Buffer
}

func newRig(t *testing.T, size int, offer []string, mod func(*autoscale.Config)) *rig {
	t.Helper()
	e, err := pool.NewElastic(pool.Config{Pools: []pool.PoolConfig{{
		Name: "paid", Numbers: numbers(0, size), BusinessNumber: business,
		SessionWindow: 30 * time.Minute, Cooldown: time.Hour, Exhaustion: pool.ServeOriginal,
	}}})
	require.NoError(t, err)
	r := &rig{pool: e, vendor: newFakeVendor(offer...), now: t0, log: &bytes.Buffer{}, dryLog: &bytes.Buffer{}}
	for _, n := range numbers(0, size) {
		r.vendor.own(n)
	}
	cfg := autoscale.Config{
		Pool: "paid", Provisioner: r.vendor, Resizer: e,
		BuyOptions: provider.BuyOptions{VoiceURL: "https://calls.example.com/voice", FallbackTo: business},
		Logger:     slog.New(slog.NewTextHandler(r.log, nil)),
		Clock:      func() time.Time { return r.now },
	}
	if mod != nil {
		mod(&cfg)
	}
	r.scaler, err = autoscale.New(cfg)
	require.NoError(t, err)
	cfg.DryRun, cfg.Logger = true, slog.New(slog.NewTextHandler(r.dryLog, nil))
	r.dry, err = autoscale.New(cfg)
	require.NoError(t, err)
	return r
}

func (r *rig) members(t *testing.T) []string {
	t.Helper()
	ns, err := r.pool.Numbers("paid")
	require.NoError(t, err)
	return ns
}

func actions(cs []autoscale.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Action)+" "+c.Number)
	}
	return out
}

// report is an audit that saw traffic and recommends size numbers.
func report(size int) pool.AuditReport {
	return pool.AuditReport{Holds: 100, Recommended: pool.Recommendation{Numbers: size}}
}

func TestNewNamesEveryBadField(t *testing.T) {
	_, err := autoscale.New(autoscale.Config{MaxStep: -1, MinSize: -1, MaxSize: -1})
	require.ErrorIs(t, err, autoscale.ErrInvalidConfig)
	for _, field := range []string{"pool", "provisioner", "resizer", "buy_options.voice_url", "buy_options.fallback_to", "max_step", "min_size", "max_size"} {
		assert.Contains(t, err.Error(), field+":")
	}
	_, err = autoscale.New(autoscale.Config{Pool: "paid", Provisioner: newFakeVendor(), Resizer: &pool.Elastic{},
		BuyOptions: provider.BuyOptions{VoiceURL: "https://x.example/v", FallbackTo: "+1555"}})
	require.ErrorIs(t, err, autoscale.ErrInvalidConfig)
	assert.Contains(t, err.Error(), "buy_options.fallback_to")
}

func TestPlan(t *testing.T) {
	cur := numbers(0, 6)
	hold := func(n string, minutes int) pool.HoldRecord {
		return pool.HoldRecord{Number: n, From: t0, Until: t0.Add(time.Duration(minutes) * time.Minute)}
	}
	// Held time: #0 90m, #1 10m (one hold), #2 10m (two holds), #3 none,
	// #4 none, #5 60m. A hold with no end yet counts as a hold, not as time.
	holds := []pool.HoldRecord{hold(cur[0], 90), hold(cur[1], 10), hold(cur[2], 5), hold(cur[2], 5),
		hold(cur[5], 60), {Number: cur[4], From: t0}, hold("+14152009999", 500)}
	cases := []struct {
		name   string
		mod    func(*autoscale.Config)
		report pool.AuditReport
		want   autoscale.Plan
	}{
		{"NoHoldsNoChange", nil, pool.AuditReport{Recommended: pool.Recommendation{Numbers: 1}},
			autoscale.Plan{Pool: "paid", Current: 6, Target: 6, Reason: "the audit saw no holds"}},
		{"AtSize", nil, report(6), autoscale.Plan{Pool: "paid", Current: 6, Target: 6, Reason: "the pool is at its recommended size"}},
		{"Grow", nil, report(9), autoscale.Plan{Pool: "paid", Current: 6, Target: 9, Buy: 3}},
		{"GrowBoundedByMaxStep", func(c *autoscale.Config) { c.MaxStep = 2 }, report(9), autoscale.Plan{Pool: "paid", Current: 6, Target: 9, Buy: 2}},
		{"GrowBoundedByMaxSize", func(c *autoscale.Config) { c.MaxSize = 7 }, report(9), autoscale.Plan{Pool: "paid", Current: 6, Target: 7, Buy: 1}},
		{"ShrinkLeastUsedFirst", nil, report(2),
			autoscale.Plan{Pool: "paid", Current: 6, Target: 2, Drain: []string{cur[3], cur[4], cur[1], cur[2]}}},
		{"ShrinkBoundedByMaxStep", func(c *autoscale.Config) { c.MaxStep = 1 }, report(2),
			autoscale.Plan{Pool: "paid", Current: 6, Target: 2, Drain: []string{cur[3]}}},
		{"ShrinkFloorIsMinSize", func(c *autoscale.Config) { c.MinSize = 5 }, report(0),
			autoscale.Plan{Pool: "paid", Current: 6, Target: 5, Drain: []string{cur[3]}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, 1, nil, c.mod)
			assert.Equal(t, c.want, r.scaler.Plan(c.report, cur, holds))
		})
	}
}

func TestApplyGrowsAtOnce(t *testing.T) {
	offer := numbers(100, 4)
	r := newRig(t, 2, offer, nil)
	for i := range 2 {
		_, err := r.pool.Lease(ctx, "paid", fmt.Sprint("s", i), t0)
		require.NoError(t, err)
	}
	plan := r.scaler.Plan(report(5), r.members(t), nil)
	require.Equal(t, 3, plan.Buy)
	res, err := r.scaler.Apply(ctx, plan)
	require.NoError(t, err)
	assert.Equal(t, []string{"buy " + offer[0], "add " + offer[0], "buy " + offer[1], "add " + offer[1], "buy " + offer[2], "add " + offer[2]},
		actions(res.Changes))
	assert.Equal(t, append(numbers(0, 2), offer[:3]...), r.members(t))
	for id, opts := range r.vendor.opts {
		assert.Equal(t, business, opts.FallbackTo, "fail-safe of %s", id)
		assert.Equal(t, "https://calls.example.com/voice", opts.VoiceURL)
	}
	l, err := r.pool.Lease(ctx, "paid", "s2", t0)
	require.NoError(t, err)
	assert.Equal(t, pool.Assigned, l.Outcome, "a bought number serves at once")
	// Every change is one Info record naming pool, number and action.
	lines := strings.Split(strings.TrimSpace(r.log.String()), "\n")
	require.Len(t, lines, 6)
	assert.Contains(t, lines[0], "level=INFO")
	assert.Contains(t, lines[0], "pool=paid number=+14152000100 action=buy id=PN0003")
}

func TestApplyShrinksThroughCooldown(t *testing.T) {
	r := newRig(t, 3, nil, nil)
	held, err := r.pool.Lease(ctx, "paid", "caller", t0)
	require.NoError(t, err)
	res, err := r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid", Drain: []string{held.Number}})
	require.NoError(t, err)
	assert.Equal(t, []string{"drain " + held.Number}, actions(res.Changes))
	assert.Equal(t, []pool.DrainState{{Number: held.Number, Holds: 1}}, res.Draining)
	for i := range 2 {
		l, err := r.pool.Lease(ctx, "paid", fmt.Sprint("new", i), t0.Add(time.Minute))
		require.NoError(t, err)
		assert.NotEqual(t, held.Number, l.Number, "a draining number takes no new lease")
	}
	require.NoError(t, r.pool.Release(ctx, "paid", "caller", held.Token, t0.Add(10*time.Minute)))

	r.now = t0.Add(20 * time.Minute)
	res, err = r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid"})
	require.NoError(t, err)
	assert.Empty(t, res.Changes)
	assert.Equal(t, []pool.DrainState{{Number: held.Number, CoolsAt: t0.Add(70 * time.Minute)}}, res.Draining)
	assert.Contains(t, r.vendor.ownedNumbers(), held.Number, "kept through the cooldown")
	hs, err := r.pool.HoldersAt(ctx, held.Number, r.now, time.Hour)
	require.NoError(t, err)
	require.Len(t, hs, 1, "a call in the grace window finds its caller")

	r.now = t0.Add(70 * time.Minute)
	res, err = r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid"})
	require.NoError(t, err)
	assert.Equal(t, []string{"release " + held.Number, "remove " + held.Number}, actions(res.Changes))
	assert.Equal(t, "PN0001", res.Changes[0].ID)
	assert.NotContains(t, r.vendor.ownedNumbers(), held.Number)
	assert.NotContains(t, r.members(t), held.Number)
	draining, err := r.pool.Draining(ctx, "paid")
	require.NoError(t, err)
	assert.Empty(t, draining)
}

func TestApplyDryRunChangesNothing(t *testing.T) {
	offer := numbers(100, 5)
	r := newRig(t, 3, offer, func(c *autoscale.Config) { c.DryRun = true })
	res, err := r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid", Buy: 2})
	require.NoError(t, err)
	assert.Equal(t, []string{"buy " + offer[0], "add " + offer[0], "buy " + offer[1], "add " + offer[1]}, actions(res.Changes))
	res, err = r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid", Drain: numbers(0, 1)})
	require.NoError(t, err)
	require.Len(t, res.Changes, 1)
	assert.True(t, res.Changes[0].DryRun)
	assert.Zero(t, r.vendor.writeCount(), "nothing bought, released or configured")
	assert.Equal(t, offer, r.vendor.offered())
	assert.Equal(t, numbers(0, 3), r.members(t))
	draining, err := r.pool.Draining(ctx, "paid")
	require.NoError(t, err)
	assert.Empty(t, draining, "nothing drained")
	assert.Contains(t, r.log.String(), "dry_run=true")
}

// state is what a dry run must leave as it found it.
type state struct {
	members, draining, owned, offered []string
}

func (r *rig) state(t *testing.T) state {
	t.Helper()
	draining, err := r.pool.Draining(ctx, "paid")
	require.NoError(t, err)
	return state{members: r.members(t), draining: draining, owned: r.vendor.ownedNumbers(), offered: r.vendor.offered()}
}

// planned is a Change as a dry run can know it: a purchase's vendor id
// exists only once the number is bought.
type planned struct {
	Action autoscale.Action
	Number string
	ID     string
}

func plannedChanges(t *testing.T, cs []autoscale.Change, dry bool) []planned {
	t.Helper()
	var out []planned
	for _, c := range cs {
		assert.Equal(t, dry, c.DryRun, "%s %s marked dry", c.Action, c.Number)
		p := planned{c.Action, c.Number, c.ID}
		if c.Action == autoscale.ActionBuy || c.Action == autoscale.ActionAdd {
			p.ID = ""
		}
		out = append(out, p)
	}
	return out
}

var (
	logTime  = regexp.MustCompile(`^time=\S+ `)
	logBuyID = regexp.MustCompile(`(action=(?:buy|add)) id=\S+`)
)

// logLines are the change log's records without their time, the dry-run
// mark and a purchase's vendor id.
func logLines(buf *bytes.Buffer) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l == "" {
			continue
		}
		l = logTime.ReplaceAllString(l, "")
		l = strings.TrimSuffix(l, " dry_run=true")
		out = append(out, logBuyID.ReplaceAllString(l, "$1"))
	}
	return out
}

// A dry run reports what a real run on the same state does: reclaims,
// purchases, releases and removals of finished drains, new drains, and
// the same error; a real run then does exactly that.
func TestApplyDryRunReportsWhatARealRunDoes(t *testing.T) {
	cases := []struct {
		name    string
		size    int
		offer   []string
		prepare func(t *testing.T, r *rig) autoscale.Plan
		wantErr error
		want    func(r *rig) []string
	}{
		{
			// A held drain is reclaimed; a finished drain whose number the
			// vendor no longer lists is bought around and removed.
			name: "Grow", size: 3, offer: numbers(100, 3),
			prepare: func(t *testing.T, r *rig) autoscale.Plan {
				held, err := r.pool.Lease(ctx, "paid", "caller", t0)
				require.NoError(t, err)
				gone := other(t, r, held.Number)
				_, err = r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid", Drain: []string{held.Number, gone}})
				require.NoError(t, err)
				require.NoError(t, r.vendor.ReleaseNumber(ctx, r.idOf(t, gone)))
				return autoscale.Plan{Pool: "paid", Buy: 2}
			},
		},
		{
			// A finished drain is released and removed, a held one waits,
			// and the plan's numbers start draining.
			name: "Shrink", size: 5,
			prepare: func(t *testing.T, r *rig) autoscale.Plan {
				held, err := r.pool.Lease(ctx, "paid", "caller", t0)
				require.NoError(t, err)
				done := other(t, r, held.Number)
				_, err = r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid", Drain: []string{held.Number, done}})
				require.NoError(t, err)
				return autoscale.Plan{Pool: "paid", Drain: []string{other(t, r, held.Number, done)}}
			},
		},
		{
			name: "ShortSupply", size: 2, offer: numbers(100, 1), wantErr: autoscale.ErrShortSupply,
			prepare: func(*testing.T, *rig) autoscale.Plan { return autoscale.Plan{Pool: "paid", Buy: 3} },
		},
		{
			name: "VendorDown", size: 2, offer: numbers(100, 1), wantErr: autoscale.ErrVendor,
			prepare: func(_ *testing.T, r *rig) autoscale.Plan {
				r.vendor.fail["search"] = errVendorDown
				return autoscale.Plan{Pool: "paid", Buy: 1}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, c.size, c.offer, nil)
			plan := c.prepare(t, r)
			r.log.Reset()
			before := r.state(t)
			writes := r.vendor.writeCount()

			dry, dryErr := r.dry.Apply(ctx, plan)
			assert.Equal(t, before, r.state(t), "a dry run changes nothing")
			assert.Equal(t, writes, r.vendor.writeCount(), "a dry run buys and releases nothing")

			real, realErr := r.scaler.Apply(ctx, plan)
			if c.wantErr != nil {
				require.ErrorIs(t, realErr, c.wantErr)
				require.ErrorIs(t, dryErr, c.wantErr)
			} else {
				require.NoError(t, realErr)
				require.NoError(t, dryErr)
				require.NotEmpty(t, real.Changes)
			}
			assert.Equal(t, plannedChanges(t, real.Changes, false), plannedChanges(t, dry.Changes, true))
			assert.Equal(t, logLines(r.log), logLines(r.dryLog))
			assert.Len(t, logLines(r.dryLog), len(dry.Changes))
			// The dry run reports the drains already under way; the ones
			// it plans have no state yet.
			var started []pool.DrainState
			for _, st := range real.Draining {
				if !slices.Contains(plan.Drain, st.Number) {
					started = append(started, st)
				}
			}
			assert.Equal(t, started, dry.Draining)
		})
	}
}

// other returns a member of the pool that is none of not.
func other(t *testing.T, r *rig, not ...string) string {
	t.Helper()
	for _, n := range r.members(t) {
		if !slices.Contains(not, n) {
			return n
		}
	}
	t.Fatal("no other member")
	return ""
}

func (r *rig) idOf(t *testing.T, number string) string {
	t.Helper()
	list, err := r.vendor.ListNumbers(ctx)
	require.NoError(t, err)
	for _, o := range list {
		if o.Number == number {
			return o.ID
		}
	}
	t.Fatalf("%s not owned", number)
	return ""
}

func TestApplyVendorFailureKeepsWhatWasBought(t *testing.T) {
	offer := numbers(100, 4)
	r := newRig(t, 2, offer, nil)
	r.vendor.fail["buy"], r.vendor.failAfter["buy"] = errVendorDown, 1
	res, err := r.scaler.Apply(ctx, r.scaler.Plan(report(5), r.members(t), nil))
	require.ErrorIs(t, err, autoscale.ErrVendor)
	require.ErrorIs(t, err, errVendorDown)
	assert.Equal(t, []string{"buy " + offer[0], "add " + offer[0]}, actions(res.Changes))
	assert.Equal(t, append(numbers(0, 2), offer[0]), r.members(t))
	// The next Apply, with a fresh plan, buys only what is still missing.
	delete(r.vendor.fail, "buy")
	res, err = r.scaler.Apply(ctx, r.scaler.Plan(report(5), r.members(t), nil))
	require.NoError(t, err)
	assert.Equal(t, []string{"buy " + offer[1], "add " + offer[1], "buy " + offer[2], "add " + offer[2]}, actions(res.Changes))
	assert.Len(t, r.members(t), 5)
}

func TestApplyShortSupplyBuysWhatIsOffered(t *testing.T) {
	r := newRig(t, 2, numbers(100, 1), nil)
	res, err := r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid", Buy: 3})
	require.ErrorIs(t, err, autoscale.ErrShortSupply)
	assert.Len(t, res.Changes, 2)
	assert.Len(t, r.members(t), 3)
}

// refusing is a Resizer whose AddNumbers fails: the pool refuses the
// numbers bought for it.
type refusing struct{ *pool.Elastic }

func (refusing) AddNumbers(context.Context, string, ...string) error {
	return errors.New("pool store down")
}

func TestApplyReleasesANumberThePoolRefuses(t *testing.T) {
	offer := numbers(100, 2)
	r := newRig(t, 1, offer, func(c *autoscale.Config) { c.Resizer = refusing{c.Resizer.(*pool.Elastic)} })
	res, err := r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid", Buy: 1})
	require.ErrorIs(t, err, autoscale.ErrPool)
	require.NotErrorIs(t, err, autoscale.ErrOrphan)
	assert.Equal(t, []string{"buy " + offer[0], "release " + offer[0]}, actions(res.Changes))
	assert.NotContains(t, r.vendor.ownedNumbers(), offer[0], "not left costing money")

	r.vendor.fail["release"] = errVendorDown
	res, err = r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid", Buy: 1})
	require.ErrorIs(t, err, autoscale.ErrOrphan)
	assert.Contains(t, err.Error(), offer[1])
	assert.Contains(t, err.Error(), res.Changes[0].ID)
	assert.Equal(t, []string{"buy " + offer[1]}, actions(res.Changes))
	assert.Contains(t, r.log.String(), "level=ERROR")
}

func TestApplyFinishesAnInterruptedRelease(t *testing.T) {
	r := newRig(t, 3, nil, nil)
	n := numbers(0, 1)[0]
	_, err := r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid", Drain: []string{n}})
	require.NoError(t, err)
	r.vendor.fail["release"] = errVendorDown
	res, err := r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid"})
	require.ErrorIs(t, err, autoscale.ErrVendor)
	assert.Empty(t, res.Changes)
	draining, err := r.pool.Draining(ctx, "paid")
	require.NoError(t, err)
	assert.Equal(t, []string{n}, draining, "still tracked, so the next Apply retries")

	delete(r.vendor.fail, "release")
	res, err = r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid"})
	require.NoError(t, err)
	assert.Equal(t, []string{"release " + n, "remove " + n}, actions(res.Changes))

	// Released at the vendor by an Apply that stopped before the removal:
	// the next one only removes it.
	m := numbers(1, 1)[0]
	_, err = r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid", Drain: []string{m}})
	require.NoError(t, err)
	require.NoError(t, r.vendor.ReleaseNumber(ctx, "PN0002"))
	res, err = r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid"})
	require.NoError(t, err)
	assert.Equal(t, []string{"remove " + m}, actions(res.Changes))
}

func TestApplyReclaimsDrainingNumbersBeforeBuying(t *testing.T) {
	offer := numbers(100, 3)
	r := newRig(t, 3, offer, nil)
	held, err := r.pool.Lease(ctx, "paid", "caller", t0)
	require.NoError(t, err)
	_, err = r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid", Drain: []string{held.Number}})
	require.NoError(t, err)
	res, err := r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid", Buy: 2})
	require.NoError(t, err)
	assert.Equal(t, []string{"reclaim " + held.Number, "buy " + offer[0], "add " + offer[0]}, actions(res.Changes))
	assert.Len(t, r.members(t), 4)
}

// A drained number released at the vendor by an Apply that stopped before
// removing it is not put back into service when the pool grows: the
// account no longer owns it. It is bought around, and removed.
func TestApplyNeverReclaimsANumberReleasedAtTheVendor(t *testing.T) {
	offer := numbers(100, 2)
	r := newRig(t, 3, offer, nil)
	m := numbers(1, 1)[0]
	_, err := r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid", Drain: []string{m}})
	require.NoError(t, err)
	require.NoError(t, r.vendor.ReleaseNumber(ctx, "PN0002")) // released; the removal failed
	res, err := r.scaler.Apply(ctx, autoscale.Plan{Pool: "paid", Buy: 1})
	require.NoError(t, err)
	assert.Equal(t, []string{"buy " + offer[0], "add " + offer[0], "remove " + m}, actions(res.Changes))
	assert.NotContains(t, r.members(t), m, "a number the account no longer owns is never leased")
	for i := range 3 {
		l, err := r.pool.Lease(ctx, "paid", fmt.Sprint("s", i), t0)
		require.NoError(t, err)
		assert.NotEqual(t, m, l.Number)
	}
}
