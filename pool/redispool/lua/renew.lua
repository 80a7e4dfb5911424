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

local session, tok = ARGV[1], ARGV[2]
local now, window = tonumber(ARGV[3]), tonumber(ARGV[4])
local l = getLease(tok)
if not l or l.s ~= session then
  return {'stale', '', 0, ended}
end
if l.u < now then
  endHold(tok, l, l.u)
  return {'expired', '', 0, ended}
end
local u = math.max(l.u, now + window)
if u ~= l.u then
  l.u = u
  putLease(tok, l)
  redis.call('ZADD', kExpiry, u, tok)
  redis.call('ZADD', kActivity, 'GT', u, l.n)
end
return {'ok', l.n, l.u, ended}
