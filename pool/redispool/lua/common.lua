-- Shared by every script. KEYS[1] is the pool's key prefix, with a hash
-- tag so every key of one pool lives in one cluster slot.
-- Records are "\n"-joined fields with the session id last, so any session
-- id survives and a history member can be rebuilt byte for byte.
local base = KEYS[1]
local kFree = base .. ':free'         -- zset number -> when its last hold ended (ms)
local kSessions = base .. ':sessions' -- hash session -> token of its live lease
local kLeases = base .. ':leases'     -- hash token -> number,from,until,reused,session
local kExpiry = base .. ':expiry'     -- zset token -> until
local kHolds = base .. ':holds'       -- hash number -> live holds
local kActivity = base .. ':activity' -- zset held number -> latest expiry of its holds
local kEnded = base .. ':ended'       -- hash number -> when its latest hold ended
local kSeq = base .. ':seq'           -- lease token counter
local kStats = base .. ':stats'       -- hash of counters
local kRegistered = base .. ':registered' -- set by init: the pool's numbers are here
local function histKey(number) return base .. ':hist:' .. number end

local ended = {} -- holds ended by this call, reported to the caller

local function fields(s)
  local out, pos = {}, 1
  for _ = 1, 4 do
    local i = string.find(s, '\n', pos, true)
    out[#out + 1] = string.sub(s, pos, i - 1)
    pos = i + 1
  end
  out[5] = string.sub(s, pos)
  return out
end

local function getLease(tok)
  local raw = redis.call('HGET', kLeases, tok)
  if not raw then return nil end
  local f = fields(raw)
  return {n = f[1], f = tonumber(f[2]), u = tonumber(f[3]), r = f[4], s = f[5]}
end

local function putLease(tok, l)
  redis.call('HSET', kLeases, tok, l.n .. '\n' .. l.f .. '\n' .. l.u .. '\n' .. l.r .. '\n' .. l.s)
end

-- A history member: token, from, until (0 while live), reused, session.
local function histMember(tok, l, untilv)
  return tok .. '\n' .. l.f .. '\n' .. untilv .. '\n' .. l.r .. '\n' .. l.s
end

local function endHold(tok, l, endAt)
  redis.call('HDEL', kLeases, tok)
  redis.call('ZREM', kExpiry, tok)
  if redis.call('HGET', kSessions, l.s) == tok then
    redis.call('HDEL', kSessions, l.s)
  end
  local hk = histKey(l.n)
  redis.call('ZREM', hk, histMember(tok, l, 0))
  local member = histMember(tok, l, endAt)
  redis.call('ZADD', hk, l.f, member)
  ended[#ended + 1] = l.n .. '\n' .. member
  local last = tonumber(redis.call('HGET', kEnded, l.n) or '0')
  if endAt > last then
    last = endAt
    redis.call('HSET', kEnded, l.n, endAt)
  end
  if redis.call('HINCRBY', kHolds, l.n, -1) <= 0 then
    redis.call('HDEL', kHolds, l.n)
    redis.call('ZREM', kActivity, l.n)
    redis.call('ZADD', kFree, last, l.n)
  end
end

-- expireDue ends up to limit holds whose expiry is before now.
local function expireDue(nowArg, limit)
  local toks = redis.call('ZRANGEBYSCORE', kExpiry, '-inf', '(' .. nowArg, 'LIMIT', 0, limit)
  for _, tok in ipairs(toks) do
    local l = getLease(tok)
    if l then
      endHold(tok, l, l.u)
    else
      redis.call('ZREM', kExpiry, tok)
    end
  end
  return #toks
end

local function startHold(number, session, now, window, reused, perNumber)
  local tok = tostring(redis.call('INCR', kSeq))
  local l = {n = number, f = now, u = now + window, r = reused, s = session}
  putLease(tok, l)
  redis.call('HSET', kSessions, session, tok)
  redis.call('ZADD', kExpiry, l.u, tok)
  redis.call('HINCRBY', kHolds, number, 1)
  redis.call('ZADD', kActivity, 'GT', l.u, number)
  local hk = histKey(number)
  redis.call('ZADD', hk, now, histMember(tok, l, 0))
  redis.call('ZREMRANGEBYRANK', hk, 0, -(perNumber + 1))
  local holds = redis.call('HLEN', kLeases)
  if holds > tonumber(redis.call('HGET', kStats, 'peak') or '0') then
    redis.call('HSET', kStats, 'peak', holds)
  end
  return tok, l
end
