"""The Lua scripts of the Redis store: every change to a scan is one atomic script.

They share one prelude, the Lua mirror of ``store/lifecycle.py``. Time is Redis's own (``TIME``),
so every machine agrees on deadlines. Every script takes the scan's two keys, which share the
``{scan_id}`` hash tag and so one cluster slot: KEYS[1] the scan hash (the record's fields, each
strategy's ``<id>.s|n|ms|e|a`` fields and ``top``, the best ten results as one JSON array), KEYS[2]
the results (a sorted set of opportunity JSON by rank score).
"""

from __future__ import annotations

PRELUDE = r"""
local TERMINAL = {complete=true, partial=true, failed=true, cancelled=true}
local S_TERMINAL = {done=true, failed=true, skipped=true, timed_out=true, cancelled=true}

local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

local function fmt(t) return string.format('%.6f', t) end

local function touch(t)
  redis.call('HSET', KEYS[1], 'updated_at', fmt(t))
  redis.call('HINCRBY', KEYS[1], 'version', 1)
end

local function each_strategy()
  return string.gmatch(redis.call('HGET', KEYS[1], 'strategies'), '[^,]+')
end

local function final_status()
  local total, bad, failed = 0, 0, 0
  for sid in each_strategy() do
    local s = redis.call('HGET', KEYS[1], sid .. '.s')
    total = total + 1
    if s == 'cancelled' then return 'cancelled' end
    if s == 'failed' then failed = failed + 1; bad = bad + 1 end
    if s == 'timed_out' then bad = bad + 1 end
  end
  if bad == 0 then return 'complete' end
  if failed == total then return 'failed' end
  return 'partial'
end

local function finish(status, t, ttl)
  redis.call('HSET', KEYS[1], 'status', status, 'finished_at', fmt(t))
  for i = 1, 2 do redis.call('EXPIRE', KEYS[i], ttl) end
end

local function close_open(to, status, t, ttl, err)
  for sid in each_strategy() do
    if not S_TERMINAL[redis.call('HGET', KEYS[1], sid .. '.s')] then
      redis.call('HSET', KEYS[1], sid .. '.s', to)
    end
  end
  redis.call('HSET', KEYS[1], 'strategies_completed', redis.call('HGET', KEYS[1], 'total'))
  if err then redis.call('HSET', KEYS[1], 'error', err) end
  finish(status, t, ttl)
  touch(t)
end

local function finish_if_overdue(t, ttl)
  if TERMINAL[redis.call('HGET', KEYS[1], 'status')] then return false end
  if t < tonumber(redis.call('HGET', KEYS[1], 'deadline_at')) then return false end
  close_open('timed_out', 'partial', t, ttl, 'deadline passed before every strategy finished')
  return true
end

-- Where every change starts: nil if the scan is gone, else the time and its (deadline-checked)
-- status.
local function open_scan(ttl)
  if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
  local t = now()
  finish_if_overdue(t, ttl)
  return t, redis.call('HGET', KEYS[1], 'status')
end
"""

# ARGV: ttl. Finishes the scan if it is past its deadline (by Redis's clock).
# Returns 1 if it finished it now, 2 if it was already terminal, 0 if it runs on, -1 if gone.
FINISH_IF_OVERDUE = (
    PRELUDE
    + r"""
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if TERMINAL[redis.call('HGET', KEYS[1], 'status')] then return 2 end
if finish_if_overdue(now(), tonumber(ARGV[1])) then return 1 end
return 0
"""
)

# ARGV: ttl, strategy id. Returns the attempt number, or false if the strategy must not run.
START = (
    PRELUDE
    + r"""
local t, status = open_scan(tonumber(ARGV[1]))
if not t then return false end
if TERMINAL[status] then return false end
local s = redis.call('HGET', KEYS[1], ARGV[2] .. '.s')
if (not s) or S_TERMINAL[s] then return false end
redis.call('HSET', KEYS[1], ARGV[2] .. '.s', 'running')
local attempt = redis.call('HINCRBY', KEYS[1], ARGV[2] .. '.a', 1)
if status == 'queued' then redis.call('HSET', KEYS[1], 'status', 'scanning') end
touch(t)
return attempt
"""
)

# ARGV: ttl, strategy id, status, opportunities, duration ms, error ('' for none),
#       then pairs of (rank score, opportunity JSON). Returns false or {status, changed, reason}.
COMPLETE = (
    PRELUDE
    + r"""
local ttl = tonumber(ARGV[1])
local t, status = open_scan(ttl)
if not t then return false end
if TERMINAL[status] then return {status, 0, 'scan already terminal'} end
local sid = ARGV[2]
local s = redis.call('HGET', KEYS[1], sid .. '.s')
if (not s) or S_TERMINAL[s] then return {status, 0, 'strategy already terminal'} end
redis.call('HSET', KEYS[1], sid .. '.s', ARGV[3], sid .. '.n', ARGV[4], sid .. '.ms', ARGV[5],
  sid .. '.e', ARGV[6])
for i = 7, #ARGV, 2 do redis.call('ZADD', KEYS[2], ARGV[i], ARGV[i + 1]) end
if #ARGV > 6 then
  -- the status poll reads the best ten as they are: one JSON array, kept beside the record
  local best = redis.call('ZREVRANGE', KEYS[2], 0, 9)
  redis.call('HSET', KEYS[1], 'top', '[' .. table.concat(best, ',') .. ']')
end
local done = redis.call('HINCRBY', KEYS[1], 'strategies_completed', 1)
redis.call('HSET', KEYS[1], 'opportunities_found', redis.call('ZCARD', KEYS[2]))
if status == 'queued' then status = 'scanning'; redis.call('HSET', KEYS[1], 'status', status) end
if done >= tonumber(redis.call('HGET', KEYS[1], 'total')) then
  status = final_status()
  finish(status, t, ttl)
elseif #ARGV > 6 then
  -- the results key is born now: it must expire with the rest of the scan
  redis.call('EXPIRE', KEYS[2], redis.call('TTL', KEYS[1]))
end
touch(t)
return {status, 1, 'applied'}
"""
)

# ARGV: ttl, the unfinished strategies' status, the scan's status, error ('' for none).
# Cancel and fail: a running scan ends now. Returns false or {status, changed, reason}.
END = (
    PRELUDE
    + r"""
local t, status = open_scan(tonumber(ARGV[1]))
if not t then return false end
if TERMINAL[status] then return {status, 0, 'scan already terminal'} end
close_open(ARGV[2], ARGV[3], t, tonumber(ARGV[1]), ARGV[4] ~= '' and ARGV[4])
return {ARGV[3], 1, ARGV[3]}
"""
)

# KEYS[1] fingerprint key. ARGV: expected owner, new owner, ttl. Compare-and-set.
REPLACE_FINGERPRINT = r"""
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""
