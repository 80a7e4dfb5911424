-- ARGV: session, now, window, cooldown, policy (0 reuse, 1 fallback,
-- 2 original), perNumber, hasFallback (1/0).
-- Returns {outcome, number, token, until, ended}.
-- The common case comes first, before the shared helpers are defined (each
-- definition is work on every call): a live session asking again gets its
-- number back, renewed when its window has moved.
do
  local base, now = KEYS[1], tonumber(ARGV[2])
  local tok = redis.call('HGET', base .. ':sessions', ARGV[1])
  if tok then
    local raw = redis.call('HGET', base .. ':leases', tok)
    local n, f, u, rest = string.match(raw or '', '^([^\n]*)\n([^\n]*)\n([^\n]*)\n(.*)$')
    u = tonumber(u)
    if u and u >= now then
      local want = now + tonumber(ARGV[3])
      if want > u then
        u = want
        redis.call('HSET', base .. ':leases', tok, n .. '\n' .. f .. '\n' .. u .. '\n' .. rest)
        redis.call('ZADD', base .. ':expiry', u, tok)
        redis.call('ZADD', base .. ':activity', 'GT', u, n)
      end
      return {'continued', n, tok, u, {}}
    end
  end
end

--#include common.lua

local session, nowArg = ARGV[1], ARGV[2]
local now, window, cooldown = tonumber(nowArg), tonumber(ARGV[3]), tonumber(ARGV[4])
local policy, perNumber, hasFallback = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7] == '1'

-- A live session was answered above; a session still listed here has a
-- lease that expired (end it where it lapsed) or a lost record.
local tok = redis.call('HGET', kSessions, session)
if tok then
  local l = getLease(tok)
  if l then
    endHold(tok, l, l.u)
  else
    redis.call('HDEL', kSessions, session)
  end
end

-- The free number whose last hold ended longest ago; before settling for
-- one still cooling, end expired holds, which may free a colder number.
local head = redis.call('ZRANGE', kFree, 0, 0, 'WITHSCORES')
if head[1] == nil or tonumber(head[2]) + cooldown > now then
  if expireDue(nowArg, 1000) > 0 then
    head = redis.call('ZRANGE', kFree, 0, 0, 'WITHSCORES')
  end
end
if head[1] then
  if tonumber(head[2]) + cooldown > now then
    redis.call('HINCRBY', kStats, 'cooling', 1)
  end
  redis.call('ZREM', kFree, head[1])
  local t, l = startHold(head[1], session, now, window, '0', perNumber)
  return {'assigned', l.n, t, l.u, ended}
end

-- No number free and the pool never registered here: its state is gone (a
-- failover to a replica that had not synced, a restart without
-- persistence). The caller registers the numbers again and retries, rather
-- than answering the business number forever.
if redis.call('EXISTS', kRegistered) == 0 then
  return {'unregistered', '', '0', 0, ended}
end

if policy == 0 then
  for _, number in ipairs(redis.call('ZRANGE', kActivity, 0, 15)) do
    if tonumber(redis.call('HGET', kHolds, number) or '0') < perNumber - 1 then
      redis.call('HINCRBY', kStats, 'reuses', 1)
      local t, l = startHold(number, session, now, window, '1', perNumber)
      return {'reused', l.n, t, l.u, ended}
    end
  end
end
if hasFallback and policy ~= 2 then
  redis.call('HINCRBY', kStats, 'fallbacks', 1)
  return {'fallback', '', '0', 0, ended}
end
redis.call('HINCRBY', kStats, 'originals', 1)
return {'original', '', '0', 0, ended}
