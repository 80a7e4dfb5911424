-- ARGV: session, token, now. Returns {status, ended}.
local session, tok, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local l = getLease(tok)
if not l or l.s ~= session then
  return {'stale', ended}
end
if l.u < now then
  endHold(tok, l, l.u)
  return {'expired', ended}
end
endHold(tok, l, now)
return {'ok', ended}
