-- ARGV: the pool's numbers. Adds each number neither free nor held to the
-- free set as long cold, so constructing an allocator is idempotent and a
-- number added to the configuration joins the pool. Marks the pool as
-- registered, so a lease can tell an exhausted pool from a lost one.
local added = 0
for _, number in ipairs(ARGV) do
  if not redis.call('ZSCORE', kFree, number) and not redis.call('HGET', kHolds, number) then
    redis.call('ZADD', kFree, 0, number)
    added = added + 1
  end
end
redis.call('SET', kRegistered, '1')
return added
