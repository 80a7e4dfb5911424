-- ARGV: session, token, now, window. Returns {status, number, until, ended}.
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
