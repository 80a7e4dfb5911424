package pool_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attriqs/calltrack/pool"
)

func TestValidateReportsEveryProblemNamingFieldAndEntry(t *testing.T) {
	cfg := pool.Config{
		Pools: []pool.PoolConfig{
			{
				Name:           "paid-search",
				Numbers:        []string{"+14152000000", "+14152000001", "+14152000002", "+1555"},
				BusinessNumber: "+12125550100",
				Cooldown:       -time.Minute,
			},
			{Name: "paid-search", Numbers: []string{"+14152000001"}, BusinessNumber: "2125550100"},
			{Numbers: []string{"+14152000009"}, BusinessNumber: "+12125550100", Exhaustion: pool.ServeFallback},
		},
		Dedicated: []pool.DedicatedNumber{{Number: "+14152000009", BusinessNumber: "+12125550100"}},
	}
	err := cfg.Validate()
	require.Error(t, err)
	require.ErrorIs(t, err, pool.ErrInvalidConfig)
	require.ErrorIs(t, err, pool.ErrInvalidNumber)
	for _, want := range []string{
		`pool "paid-search": numbers[3] "+1555": not a valid E.164 number`,
		`pool "paid-search": cooldown "-1m0s": must not be negative`,
		`pool "paid-search": name "paid-search": is defined twice`,
		`pool "paid-search": numbers[0] "+14152000001": already used by pool "paid-search": numbers[1]`,
		`pool "paid-search": business_number "2125550100": not a valid E.164 number: missing leading + and country code`,
		`pools[2]: name: is required`,
		`pools[2]: fallback: is required by the serve-fallback exhaustion policy`,
		`dedicated[0]: number "+14152000009": already used by pools[2]: numbers[0]`,
		`dedicated[0] "+14152000009": needs a campaign or a source to attribute calls to`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	var ce *pool.ConfigError
	require.True(t, errors.As(err, &ce))
	assert.Len(t, strings.Split(err.Error(), "\n"), 9, "one line per problem:\n%v", err)
}

func TestValidConfigNormalisesAndAppliesDefaults(t *testing.T) {
	cat, err := pool.NewCatalog(pool.Config{
		Pools: []pool.PoolConfig{{
			Name: "organic", Numbers: []string{"+1 (415) 200-0000", "+44 20 7946 0000"}, BusinessNumber: "+1 212 555 0100",
			Fallback: "+14152009999",
		}},
		Dedicated: []pool.DedicatedNumber{{
			Number: "+1-415-300-0000", BusinessNumber: "+12125550100",
			Campaign: "spring-radio", Source: "kqed", Medium: "radio", Channel: "Offline",
		}},
	})
	require.NoError(t, err)
	p, ok := cat.Pool("organic")
	require.True(t, ok)
	assert.Equal(t, []string{"+14152000000", "+442079460000"}, p.Numbers)
	assert.Equal(t, "+12125550100", p.BusinessNumber)
	assert.Equal(t, pool.DefaultSessionWindow, p.SessionWindow)
	assert.Equal(t, pool.DefaultCooldown, p.Cooldown)
	assert.Equal(t, pool.ReuseLeastRecent, p.Exhaustion)
	assert.Equal(t, pool.DefaultHistoryPerNumber, cat.HistoryPerNumber())

	info, ok := cat.Number("+44 20 7946 0000")
	require.True(t, ok)
	assert.Equal(t, pool.NumberInfo{Number: "+442079460000", Pool: "organic", Index: 1}, info)
	info, ok = cat.Number("+14152009999")
	require.True(t, ok)
	assert.True(t, info.Fallback)

	d, ok := cat.Dedicated("+14153000000")
	require.True(t, ok)
	assert.Equal(t, "spring-radio", d.Campaign)
	assert.Equal(t, "+14153000000", d.Number)
	_, ok = cat.Dedicated("+14152000000")
	assert.False(t, ok, "pooled numbers are not dedicated")
	_, ok = cat.Number("+14153000000")
	assert.False(t, ok, "dedicated numbers are never leased")
}

func TestHistoryPerNumberIsRoundedToAPowerOfTwo(t *testing.T) {
	for in, want := range map[int]int{0: 8, 1: 4, 5: 8, 16: 16, 100: 128, 1000: 128} {
		cfg := onePool(1, nil)
		cfg.HistoryPerNumber = in
		cat, err := pool.NewCatalog(cfg)
		require.NoError(t, err)
		assert.Equal(t, want, cat.HistoryPerNumber(), "in %d", in)
	}
}

func TestParseNumber(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"+14155550100", "+14155550100"},
		{" +1 (415) 555-0100 ", "+14155550100"},
		{"+44 20 7946 0000", "+442079460000"},
		{"+33 6 12 34 56 78", "+33612345678"},
	} {
		got, err := pool.ParseNumber(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got)
	}
	for _, bad := range []string{"", "4155550100", "+1555", "+15555550100", "+", "++14155550100", "+1415555010O", strings.Repeat("+1", 40)} {
		_, err := pool.ParseNumber(bad)
		assert.ErrorIs(t, err, pool.ErrInvalidNumber, "%q", bad)
	}
}

func FuzzParseNumber(f *testing.F) {
	for _, seed := range []string{"+14155550100", "+1 (415) 555-0100", "+442079460000", "+1555", "", "+", "+٣٣٦١٢٣٤٥٦٧٨"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := pool.ParseNumber(s)
		if err != nil {
			if !errors.Is(err, pool.ErrInvalidNumber) {
				t.Fatalf("error %v does not wrap ErrInvalidNumber", err)
			}
			return
		}
		// A canonical number is its own canonical form, and a config of it is valid.
		again, err := pool.ParseNumber(n)
		if err != nil || again != n {
			t.Fatalf("ParseNumber(%q) = %q, but ParseNumber(%q) = %q, %v", s, n, n, again, err)
		}
		cfg := pool.Config{Pools: []pool.PoolConfig{{Name: "p", Numbers: []string{s}, BusinessNumber: s}}}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("config with valid number %q: %v", s, err)
		}
	})
}

func FuzzValidateConfig(f *testing.F) {
	f.Add("paid", "+14152000000", "+12125550100", "", int64(0), int64(0), 0)
	f.Add("", "+1555", "nope", "+1", int64(-1), int64(-5), 7)
	f.Fuzz(func(t *testing.T, name, number, business, fallback string, window, cooldown int64, policy int) {
		cfg := pool.Config{Pools: []pool.PoolConfig{{
			Name: name, Numbers: []string{number}, BusinessNumber: business, Fallback: fallback,
			SessionWindow: time.Duration(window), Cooldown: time.Duration(cooldown), Exhaustion: pool.ExhaustionPolicy(policy),
		}}}
		err := cfg.Validate()
		if err == nil {
			if _, err := pool.New(cfg); err != nil {
				t.Fatalf("Validate accepted what New rejects: %v", err)
			}
			return
		}
		if !errors.Is(err, pool.ErrInvalidConfig) {
			t.Fatalf("%v does not wrap ErrInvalidConfig", err)
		}
	})
}
