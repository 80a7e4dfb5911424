-- ARGV: number, at, lo (at minus grace). Returns the holds of the number
-- that overlap [lo, at]: flat {session, from, until, reused, live, ...}.
local number, at, lo = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', histKey(number), '-inf', at)) do
  local f = fields(m)
  local tok, from, untilv, reused, session = f[1], f[2], tonumber(f[3]), f[4], f[5]
  local live = 0
  if untilv == 0 then
    local l = getLease(tok)
    if l then
      untilv = l.u
      if l.u >= at then live = 1 end
    end
  end
  if untilv >= lo then
    out[#out + 1] = session
    out[#out + 1] = from
    out[#out + 1] = untilv
    out[#out + 1] = reused
    out[#out + 1] = live
  end
end
return out
