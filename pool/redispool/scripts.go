package redispool

import (
	"embed"
	"strings"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// scripts are the Lua scripts, each with the shared helpers of common.lua
// spliced in where it says "--#include common.lua", or prefixed when it does
// not. Every state change of a pool is one script, so it is atomic on the
// server.
type scripts struct {
	lease, renew, release, sweep, holders, stats, init *redis.Script
}

func loadScripts() scripts {
	common := mustRead("common.lua")
	s := func(name string) *redis.Script {
		body := mustRead(name)
		if strings.Contains(body, includeCommon) {
			return redis.NewScript(strings.Replace(body, includeCommon, common, 1))
		}
		return redis.NewScript(common + "\n" + body)
	}
	return scripts{
		lease:   s("lease.lua"),
		renew:   s("renew.lua"),
		release: s("release.lua"),
		sweep:   s("sweep.lua"),
		holders: s("holders.lua"),
		stats:   s("stats.lua"),
		init:    s("init.lua"),
	}
}

const includeCommon = "--#include common.lua"

func mustRead(name string) string {
	b, err := luaFiles.ReadFile("lua/" + name)
	if err != nil {
		panic("redispool: embedded script missing: " + name) // a build defect
	}
	return string(b)
}
