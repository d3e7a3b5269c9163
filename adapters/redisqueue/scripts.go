package redisqueue

import "github.com/redis/go-redis/v9"

// claimScript promotes due delayed items to the tail of the queue, then
// moves up to max items from the head into the processing list and
// registers a claim for each.
// KEYS: queue, proc, held, claims, seq, delayed. ARGV: max, now, owner.
// Returns claim, item, claim, item, ...
var claimScript = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', ARGV[2], 'LIMIT', 0, 1000)
for _, m in ipairs(due) do
  local i = string.find(m, '|', 1, true)
  redis.call('RPUSH', KEYS[1], string.sub(m, i + 1))
  redis.call('ZREM', KEYS[6], m)
end
local out = {}
for n = 1, tonumber(ARGV[1]) do
  local raw = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
  if not raw then break end
  local c = 'r' .. redis.call('INCR', KEYS[5])
  redis.call('HSET', KEYS[3], c, raw)
  redis.call('HSET', KEYS[4], c, ARGV[3])
  out[#out + 1] = c
  out[#out + 1] = raw
end
return out
`)

// registerScript gives a claim to an item BLMOVE put into the processing list.
// KEYS: held, claims, seq. ARGV: item, owner. Returns the claim.
var registerScript = redis.NewScript(`
local c = 'r' .. redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], c, ARGV[1])
redis.call('HSET', KEYS[2], c, ARGV[2])
return c
`)

// settleScript applies settlements wherever their claims are held.
// KEYS: queue, claims, delayed. ARGV: key prefix, now, then per settlement
// kind (rel|req|ret), claim, new item, not_before.
// Returns 1 per applied settlement, 0 per unknown claim.
var settleScript = redis.NewScript(`
local K = ARGV[1]
local now = tonumber(ARGV[2])
local out = {}
for i = 3, #ARGV, 4 do
  local kind, c, item, nb = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local owner = redis.call('HGET', KEYS[2], c)
  if not owner then
    out[#out + 1] = 0
  else
    local held = K .. ':held:' .. owner
    local raw = redis.call('HGET', held, c)
    if raw then redis.call('LREM', K .. ':proc:' .. owner, 1, raw) end
    redis.call('HDEL', held, c)
    redis.call('HDEL', KEYS[2], c)
    if kind == 'req' then
      if nb > now then
        redis.call('ZADD', KEYS[3], nb, c .. '|' .. item)
      else
        redis.call('RPUSH', KEYS[1], item)
      end
    elseif kind == 'ret' and raw then
      redis.call('LPUSH', KEYS[1], raw)
    end
    out[#out + 1] = 1
  end
end
return out
`)

// recoverScript takes over the processing lists and claims of every owner
// whose liveness key is gone.
// KEYS: owners, claims, seq. ARGV: key prefix, me.
// Returns claim, item, claim, item, ...
var recoverScript = redis.NewScript(`
local K, me = ARGV[1], ARGV[2]
local myproc, myheld = K .. ':proc:' .. me, K .. ':held:' .. me
local out = {}
for _, o in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if o ~= me and redis.call('EXISTS', K .. ':alive:' .. o) == 0 then
    local proc, held = K .. ':proc:' .. o, K .. ':held:' .. o
    local byraw = {}
    local h = redis.call('HGETALL', held)
    for j = 1, #h, 2 do
      local list = byraw[h[j + 1]]
      if not list then list = {}; byraw[h[j + 1]] = list end
      table.insert(list, h[j])
    end
    for _, raw in ipairs(redis.call('LRANGE', proc, 0, -1)) do
      local list = byraw[raw]
      local c
      if list and #list > 0 then
        c = table.remove(list, 1)
      else
        c = 'r' .. redis.call('INCR', KEYS[3])
      end
      redis.call('HSET', myheld, c, raw)
      redis.call('HSET', KEYS[2], c, me)
      redis.call('RPUSH', myproc, raw)
      out[#out + 1] = c
      out[#out + 1] = raw
    end
    for _, list in pairs(byraw) do
      for _, c in ipairs(list) do redis.call('HDEL', KEYS[2], c) end
    end
    redis.call('DEL', proc, held)
    redis.call('SREM', KEYS[1], o)
  end
end
return out
`)

// enqueueScript adds new items: at the tail, or to the delayed set when their
// not_before is in the future. KEYS: queue, delayed, seq. ARGV: now, then per
// item not_before (0 = none), item.
var enqueueScript = redis.NewScript(`
local now = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local nb = tonumber(ARGV[i])
  if nb > now then
    redis.call('ZADD', KEYS[2], nb, 'e' .. redis.call('INCR', KEYS[3]) .. '|' .. ARGV[i + 1])
  else
    redis.call('RPUSH', KEYS[1], ARGV[i + 1])
  end
end
return (#ARGV - 1) / 2
`)
