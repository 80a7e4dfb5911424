-- ARGV: now, cooldown. Returns {leased, free, cooling, holds, reuses,
-- fallbacks, originals, cooling handouts, peak}.
local now, cooldown = tonumber(ARGV[1]), tonumber(ARGV[2])
local liveByNumber, lastEnd, holds = {}, {}, 0
local kv = redis.call('HGETALL', kLeases)
for i = 1, #kv, 2 do
  local f = fields(kv[i + 1])
  local number, untilv = f[1], tonumber(f[3])
  if untilv >= now then
    liveByNumber[number] = true
    holds = holds + 1
  elseif (lastEnd[number] or 0) < untilv then
    lastEnd[number] = untilv -- expired, not yet swept
  end
end
local leased, free, cooling = 0, 0, 0
for _ in pairs(liveByNumber) do leased = leased + 1 end
local zs = redis.call('ZRANGE', kFree, 0, -1, 'WITHSCORES')
for i = 1, #zs, 2 do
  if tonumber(zs[i + 1]) + cooldown > now then cooling = cooling + 1 else free = free + 1 end
end
for number, last in pairs(lastEnd) do
  if not liveByNumber[number] then
    local e = math.max(last, tonumber(redis.call('HGET', kEnded, number) or '0'))
    if e + cooldown > now then cooling = cooling + 1 else free = free + 1 end
  end
end
local s = redis.call('HMGET', kStats, 'reuses', 'fallbacks', 'originals', 'cooling', 'peak')
for i = 1, 5 do s[i] = tonumber(s[i] or '0') end
return {leased, free, cooling, holds, s[1], s[2], s[3], s[4], s[5]}
