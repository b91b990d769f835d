package redisstore

// initLua is SpamAssassin's initialization of an empty database (its
// _open_db MSETs DB_VERSION 3, NSPAM 0, NHAM 0, TOKEN_FORMAT 2), made
// safe against a concurrent learner: counts already there are kept.
// KEYS: DB_VERSION, NSPAM, NHAM, TOKEN_FORMAT.
const initLua = `
if redis.call('SETNX', KEYS[1], '3') == 1 then
  redis.call('SETNX', KEYS[2], '0')
  redis.call('SETNX', KEYS[3], '0')
  redis.call('SET', KEYS[4], '2')
end
return 1
`

// learnLua learns or forgets one message atomically (bayes.md §5). Its
// last block is classifier.Decide transcribed (the Pebble store's
// decision table; TestLearnScriptAgreesWithDecide checks them case by
// case): a forget of an unseen message is NotLearned, of a seen one
// unlearn(seen); a learn of an unseen message is learn(class), of one
// seen as the same class AlreadyLearned, as the other class NotLearned
// with NoRelearn, else unlearn(seen) then learn(class). unlearn and
// learn are Decision's Unlearn and Learn count changes.
//
// KEYS: [1] seen key of MsgID, [2] seen key of AltMsgID (or [1] again),
// [3] NSPAM, [4] NHAM, [5] DB_VERSION, [6] TOKEN_FORMAT, [7..] the
// message's distinct token keys.
// ARGV: [1] "l" learn or "f" forget, [2] class "s" or "h", [3] "1" for
// NoRelearn, [4] token TTL seconds (0 none), [5] seen TTL seconds.
//
// Returns the classifier.Result: 0 Learned, 1 AlreadyLearned, 2
// Relearned, 3 Forgotten, 4 NotLearned.
//
// Counts are SpamAssassin's: HINCRBY on the token hash's "s" or "h"
// field, the field deleted when it reaches 0 (the hash, and so the key,
// disappears with its last field), every counted token's TTL renewed.
// Unlike SpamAssassin (whose learn is several round trips), the message
// count never goes below 0.
const learnLua = `
local seenKey = KEYS[1]
local seen = redis.call('GET', KEYS[1])
if not seen and KEYS[2] ~= KEYS[1] then
  seen = redis.call('GET', KEYS[2])
  if seen then seenKey = KEYS[2] end
end
if seen ~= 's' and seen ~= 'h' then seen = nil end
local ttl = tonumber(ARGV[4])
local seenTTL = tonumber(ARGV[5])

local function unlearn(class)
  local nkey = KEYS[4]
  if class == 's' then nkey = KEYS[3] end
  if tonumber(redis.call('GET', nkey) or '0') > 0 then redis.call('DECR', nkey) end
  for i = 7, #KEYS do
    local v = redis.call('HINCRBY', KEYS[i], class, -1)
    if v <= 0 then
      redis.call('HDEL', KEYS[i], class)
    elseif ttl > 0 then
      redis.call('EXPIRE', KEYS[i], ttl)
    end
  end
  redis.call('DEL', seenKey)
end

local function learn(class)
  if redis.call('SETNX', KEYS[5], '3') == 1 then
    redis.call('SETNX', KEYS[3], '0')
    redis.call('SETNX', KEYS[4], '0')
    redis.call('SET', KEYS[6], '2')
  end
  if class == 's' then redis.call('INCR', KEYS[3]) else redis.call('INCR', KEYS[4]) end
  for i = 7, #KEYS do
    redis.call('HINCRBY', KEYS[i], class, 1)
    if ttl > 0 then redis.call('EXPIRE', KEYS[i], ttl) end
  end
  if seenTTL > 0 then
    redis.call('SET', KEYS[1], class, 'EX', seenTTL)
  else
    redis.call('SET', KEYS[1], class)
  end
end

if ARGV[1] == 'f' then
  if not seen then return 4 end
  unlearn(seen)
  return 3
end
local class = ARGV[2]
local result = 0
if seen then
  if seen == class then return 1 end
  if ARGV[3] == '1' then return 4 end
  unlearn(seen)
  result = 2
end
learn(class)
return result
`
