"""The Lua scripts of the Redis store: every change to a scan is one atomic script.

They share one prelude, the Lua mirror of ``store/lifecycle.py``. Time is Redis's own (``TIME``),
so every machine agrees on deadlines. Every script takes the scan's two keys, which share the
``{scan_id}`` hash tag and so one cluster slot: KEYS[1] the scan hash (the record's fields, each
strategy's ``<id>.s|n|ms|e|a`` fields and ``top``, the best ten results as one JSON array), KEYS[2]
the results (a sorted set of opportunity JSON by rank score).
"""

from __future__ import annotations

from oppscan.domain.models import NUMBER_FIELDS, Opportunity

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

# The Lua mirror of ``lifecycle.check_completion``, and more: the payloads come as JSON here.
# Opportunity numbers that may be null; the rest must be finite numbers (inf and nan serialise
# as null, which no reader could parse back).
_NUMBERS = ", ".join(f"'{n}'" for n in NUMBER_FIELDS)
_NULLABLE = ", ".join(
    f"{n}=true" for n in NUMBER_FIELDS if Opportunity.model_fields[n].default is None
)
CHECK_COMPLETION = (
    f"local NUMBERS = {{{_NUMBERS}}}\nlocal NULLABLE = {{{_NULLABLE}}}\n"
    + r"""
local function finite(x)
  return type(x) == 'number' and x == x and x ~= math.huge and x ~= -math.huge
end

-- A score ZADD takes, and finite: a plain decimal, as Python's repr writes a float.
local function finite_score(s)
  return string.match(s, '^[-+]?[%d.]+[eE]?[-+]?%d*$') ~= nil and finite(tonumber(s))
end

local function check_result(i, score, raw)
  local at = 'result ' .. i .. ': '
  if not finite_score(score) then return at .. 'its score is not a finite number' end
  local ok, opp = pcall(cjson.decode, raw)
  if not ok or type(opp) ~= 'table' or opp[1] ~= nil then return at .. 'not a JSON object' end
  if type(opp.opportunity_id) ~= 'string' or opp.opportunity_id == '' then
    return at .. 'no opportunity_id'
  end
  for _, name in ipairs(NUMBERS) do
    local v = opp[name]
    if not (NULLABLE[name] and (v == nil or v == cjson.null)) and not finite(v) then
      return at .. name .. ' is not a finite number'
    end
  end
  if opp.legs == nil or opp.legs == cjson.null then return nil end
  if type(opp.legs) ~= 'table' then return at .. 'legs is not a list' end
  for j, leg in ipairs(opp.legs) do
    local where = at .. 'legs[' .. (j - 1) .. ']'
    if type(leg) ~= 'table' then return where .. ' is not an object' end
    for _, name in ipairs({'price', 'size'}) do
      if not finite(leg[name]) then return where .. '.' .. name .. ' is not a finite number' end
    end
  end
  return nil
end

-- Everything COMPLETE will write, checked before its first write: Redis does not undo a
-- script's earlier writes, so a failure half-way would leave a strategy done without results.
local function check_completion()
  if #ARGV < 6 then return 'the outcome is incomplete' end
  if not S_TERMINAL[ARGV[3]] then
    return 'status ' .. ARGV[3] .. ' is not a terminal strategy status'
  end
  if not string.match(ARGV[5], '^%d+$') then
    return 'duration ' .. ARGV[5] .. ' is not a whole number of milliseconds'
  end
  if (#ARGV - 6) % 2 ~= 0 then return 'every result needs a score and a payload' end
  local given = (#ARGV - 6) / 2
  if not string.match(ARGV[4], '^%d+$') or tonumber(ARGV[4]) ~= given then
    return ARGV[4] .. ' results announced, ' .. given .. ' given'
  end
  for i = 1, given do
    local invalid = check_result(i, ARGV[5 + 2 * i], ARGV[6 + 2 * i])
    if invalid then return invalid end
  end
  return nil
end
"""
)

# ARGV: ttl, strategy id, status, opportunities, duration ms, error ('' for none),
#       then pairs of (rank score, opportunity JSON). Returns false or {status, changed, reason};
#       an error reply starting "invalid completion: " (and no write at all) for a bad outcome.
COMPLETE = (
    PRELUDE
    + CHECK_COMPLETION
    + r"""
local invalid = check_completion()
if invalid then return redis.error_reply('invalid completion: ' .. invalid) end
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

# The rate limit, checked and counted at once. KEYS[1] the user's starts in this window (a
# counter), KEYS[2] the mark of a fingerprint being started; both under the user's hash tag.
# ARGV: limit, the counter's ttl (s), the mark's ttl (ms), the mark's token.
# Returns {1, count, 0} when counted; {0, count, 1 if an identical start is pending} when refused.
TAKE_START = r"""
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then return {0, count, redis.call('EXISTS', KEYS[2])} end
count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3])
return {1, count, 0}
"""

# KEYS as TAKE_START's (the counter of the window the start was counted in). ARGV: the mark's
# token, 1 if a scan started (the start stays counted) else 0 (it is given back).
SETTLE_START = r"""
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if ARGV[2] == '0' and tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
  redis.call('DECR', KEYS[1])
end
return 1
"""
