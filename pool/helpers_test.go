package pool_test

import (
	"fmt"
	"time"

	"github.com/attriqs/calltrack/pool"
)

// t0 is an arbitrary start for simulated time.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// testNumbers returns n distinct valid US numbers.
func testNumbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+1415%03d%04d", 200+i/10000, i%10000)
	}
	return out
}

func onePool(n int, mod func(*pool.PoolConfig)) pool.Config {
	pc := pool.PoolConfig{Name: "paid", Numbers: testNumbers(n), BusinessNumber: "+12125550100"}
	if mod != nil {
		mod(&pc)
	}
	return pool.Config{Pools: []pool.PoolConfig{pc}}
}
