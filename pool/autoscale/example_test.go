package autoscale_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/attriqs/calltrack/pool"
	"github.com/attriqs/calltrack/pool/autoscale"
	"github.com/attriqs/calltrack/provider"
)

// A two-number pool meets twelve visitors an hour: the audit of its holds
// recommends 24 numbers (each hold leaves its number cooling for an hour),
// and Apply buys the first MaxStep of them, each with its webhook and the
// fail-safe forward to the business line, and adds them at once. The vendor
// here is the tests' in-memory fake; in production it is a vendor package's
// Provisioner.
func Example() {
	ctx := context.Background()
	elastic, _ := pool.NewElastic(pool.Config{Pools: []pool.PoolConfig{{
		Name: "paid-search", Numbers: []string{"+14155550100", "+14155550101"}, BusinessNumber: "+12125550100",
	}}})
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 36 { // one visitor every five minutes for three hours
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		l, _ := elastic.Lease(ctx, "paid-search", fmt.Sprint("visitor-", i), at)
		_ = elastic.Release(ctx, "paid-search", fmt.Sprint("visitor-", i), l.Token, at.Add(8*time.Minute))
	}
	holds, _ := elastic.Holds("paid-search")
	current, _ := elastic.Numbers("paid-search")
	report, _ := pool.Audit(holds, pool.AuditOptions{Size: len(current)})

	vendor := newFakeVendor("+14155550142", "+14155550143", "+14155550144", "+14155550145",
		"+14155550146", "+14155550147", "+14155550148", "+14155550149", "+14155550150", "+14155550151")
	scaler, err := autoscale.New(autoscale.Config{
		Pool: "paid-search", Provisioner: vendor, Resizer: elastic, MaxStep: 4,
		BuyOptions: provider.BuyOptions{VoiceURL: "https://calls.example.com/voice", FallbackTo: "+12125550100"},
		Logger: slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{} // keep the output stable
				}
				return a
			},
		})),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	plan := scaler.Plan(report, current, holds)
	fmt.Printf("recommended %d, have %d, buy %d now\n", report.Recommended.Numbers, plan.Current, plan.Buy)
	res, err := scaler.Apply(ctx, plan)
	if err != nil {
		fmt.Println(err)
		return
	}
	now, _ := elastic.Numbers("paid-search")
	fmt.Printf("%d changes, pool of %d\n", len(res.Changes), len(now))
	// Output:
	// recommended 20, have 2, buy 4 now
	// level=INFO msg="autoscale: pool change" pool=paid-search number=+14155550142 action=buy id=PN0001
	// level=INFO msg="autoscale: pool change" pool=paid-search number=+14155550142 action=add id=PN0001
	// level=INFO msg="autoscale: pool change" pool=paid-search number=+14155550143 action=buy id=PN0002
	// level=INFO msg="autoscale: pool change" pool=paid-search number=+14155550143 action=add id=PN0002
	// level=INFO msg="autoscale: pool change" pool=paid-search number=+14155550144 action=buy id=PN0003
	// level=INFO msg="autoscale: pool change" pool=paid-search number=+14155550144 action=add id=PN0003
	// level=INFO msg="autoscale: pool change" pool=paid-search number=+14155550145 action=buy id=PN0004
	// level=INFO msg="autoscale: pool change" pool=paid-search number=+14155550145 action=add id=PN0004
	// 8 changes, pool of 6
}
