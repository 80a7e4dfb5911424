package autoscale_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/attriqs/calltrack/provider"
)

// fakeVendor is an in-memory provider.Provisioner: it offers a fixed list of
// numbers, refuses a purchase without a fail-safe as the vendor packages
// do, and can be told to fail any call.
type fakeVendor struct {
	mu     sync.Mutex
	offer  []string
	owned  []provider.OwnedNumber
	opts   map[string]provider.BuyOptions // by id
	nextID int
	writes int // buys, releases and configures: what a dry run must not do
	// fail, when set for a call name ("search", "buy", "release", "list"),
	// is returned by that call; failAfter lets that many calls succeed first.
	fail      map[string]error
	failAfter map[string]int
}

var _ provider.Provisioner = (*fakeVendor)(nil)

var errVendorDown = errors.New("fake vendor: 503")

func newFakeVendor(offer ...string) *fakeVendor {
	return &fakeVendor{offer: slices.Clone(offer), opts: map[string]provider.BuyOptions{}, fail: map[string]error{}, failAfter: map[string]int{}}
}

func (f *fakeVendor) failing(call string) error {
	if f.fail[call] == nil {
		return nil
	}
	if f.failAfter[call] > 0 {
		f.failAfter[call]--
		return nil
	}
	return f.fail[call]
}

// own registers a number already on the account and returns its id.
func (f *fakeVendor) own(number string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := fmt.Sprintf("PN%04d", f.nextID)
	f.owned = append(f.owned, provider.OwnedNumber{ID: id, Number: number})
	return id
}

func (f *fakeVendor) SearchNumbers(_ context.Context, q provider.NumberQuery) ([]provider.AvailableNumber, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failing("search"); err != nil {
		return nil, err
	}
	var out []provider.AvailableNumber
	for _, n := range f.offer {
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
		out = append(out, provider.AvailableNumber{Number: n, Country: "US"})
	}
	return out, nil
}

func (f *fakeVendor) BuyNumber(_ context.Context, number string, opts provider.BuyOptions) (provider.OwnedNumber, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if err := f.failing("buy"); err != nil {
		return provider.OwnedNumber{}, err
	}
	if opts.FallbackTo == "" || opts.VoiceURL == "" {
		return provider.OwnedNumber{}, errors.New("fake vendor: voice url and fallback required")
	}
	i := slices.Index(f.offer, number)
	if i < 0 {
		return provider.OwnedNumber{}, fmt.Errorf("fake vendor: %s not offered", number)
	}
	f.offer = slices.Delete(f.offer, i, i+1)
	f.nextID++
	o := provider.OwnedNumber{ID: fmt.Sprintf("PN%04d", f.nextID), Number: number}
	f.owned = append(f.owned, o)
	f.opts[o.ID] = opts
	return o, nil
}

func (f *fakeVendor) ReleaseNumber(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if err := f.failing("release"); err != nil {
		return err
	}
	f.owned = slices.DeleteFunc(f.owned, func(o provider.OwnedNumber) bool { return o.ID == id })
	return nil // a number already gone is not an error
}

func (f *fakeVendor) ConfigureNumber(_ context.Context, id string, opts provider.BuyOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	f.opts[id] = opts
	return nil
}

func (f *fakeVendor) ListNumbers(context.Context) ([]provider.OwnedNumber, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failing("list"); err != nil {
		return nil, err
	}
	return slices.Clone(f.owned), nil
}

func (f *fakeVendor) ownedNumbers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, o := range f.owned {
		out = append(out, o.Number)
	}
	return out
}

func (f *fakeVendor) writeCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

func (f *fakeVendor) offered() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.offer)
}
