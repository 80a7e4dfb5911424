-- ARGV: now, limit. Returns {count, ended}.
local n = expireDue(ARGV[1], tonumber(ARGV[2]))
return {n, ended}
