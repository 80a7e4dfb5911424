-- ARGV: session, token, now, window. Returns {status, number, until, ended}.
-- The common case first, before the shared helpers are defined: the
-- holder of a live lease extends it.
do
  local base, now = KEYS[1], tonumber(ARGV[3])
  local raw = redis.call('HGET', base .. ':leases', ARGV[2])
  local n, f, u, r, s = string.match(raw or '', '^([^\n]*)\n([^\n]*)\n([^\n]*)\n([^\n]*)\n(.*)$')
  u = tonumber(u)
  if u and u >= now and s == ARGV[1] then
    local want = now + tonumber(ARGV[4])
    if want > u then
      u = want
      redis.call('HSET', base .. ':leases', ARGV[2], n .. '\n' .. f .. '\n' .. u .. '\n' .. r .. '\n' .. s)
      redis.call('ZADD', base .. ':expiry', u, ARGV[2])
      redis.call('ZADD', base .. ':activity', 'GT', u, n)
    end
    return {'ok', n, u, {}}
  end
end

--#include common.lua

-- A live lease of this session was renewed above: what is left is an
-- expired one (end it where it lapsed) or a token that is not the session's.
local session, tok = ARGV[1], ARGV[2]
local l = getLease(tok)
if l and l.s == session then
  endHold(tok, l, l.u)
  return {'expired', '', 0, ended}
end
return {'stale', '', 0, ended}
