"""The Lua script that writes one scored document at most once (docs/redis.md has the data model).

Python twin: ``stream.aggregates`` (same maths; ``tests/stream/test_redis_sink.py`` checks they agree).

KEYS: 1 doc hash, 2 ticker index zset, then per ticker: docs zset, buckets hash, aggregate hash.
ARGV: 1 id, 2 ts_ms, 3 score, 4 sign (+1 positive, -1 negative, 0 neutral), 5 doc ttl ms, 6 ticker ttl ms,
      7 retention ms, 8 EWMA tau ms, 9 windows "name:bucket_ms:buckets,...", 10 n tickers,
      11..10+n ticker names, then the doc hash's field/value pairs.
Returns 1 when written, 0 when the id was already there (a redelivery: nothing changes).
"""

WRITE_DOC = r"""
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local ts, score, sign = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local doc_ttl, ticker_ttl, retention, tau = ARGV[5], ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
local nt = tonumber(ARGV[10])

local fields = {}
for i = 11 + nt, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIRE', KEYS[1], doc_ttl)

local function fmt(x) return string.format('%.17g', x) end
local function int(x) return string.format('%d', x) end
local pos1 = (sign > 0) and 1 or 0
local neg1 = (sign < 0) and 1 or 0

local windows = {}
for name, bms, nb in string.gmatch(ARGV[9], '([^:,]+):(%d+):(%d+)') do
  windows[#windows + 1] = {name, tonumber(bms), tonumber(nb)}
end

for t = 1, nt do
  local ticker = ARGV[10 + t]
  local zdocs, buckets, agg = KEYS[3 * t], KEYS[3 * t + 1], KEYS[3 * t + 2]

  -- EWMA: time-decayed mean, the same whatever the arrival order.
  local e = redis.call('HMGET', agg, 'ewma_s', 'ewma_w', 'last_ts')
  local s, w, last = tonumber(e[1]), tonumber(e[2]), tonumber(e[3])
  if last == nil then
    s, w, last = score, 1, ts
  elseif ts >= last then
    local d = math.exp(-(ts - last) / tau)
    s, w, last = s * d + score, w * d + 1, ts
  else
    local d = math.exp(-(last - ts) / tau)
    s, w = s + score * d, w + d
  end
  local out = {'ewma_s', fmt(s), 'ewma_w', fmt(w), 'last_ts', int(last), 'ewma', fmt(s / w)}

  -- Rolling windows: running sums over the buckets ending at the newest bucket.
  for _, win in ipairs(windows) do
    local name, bms, nb = win[1], win[2], win[3]
    local idx = math.floor(ts / bms)
    local st = redis.call('HMGET', agg, name .. ':head', name .. ':count', name .. ':sum', name .. ':pos',
                          name .. ':neg')
    local head = tonumber(st[1])
    local n, sum, pos, neg = tonumber(st[2]) or 0, tonumber(st[3]) or 0, tonumber(st[4]) or 0, tonumber(st[5]) or 0
    if head == nil then
      head = idx
    elseif idx > head then
      for i = head - nb + 1, math.min(idx - nb, head) do
        local p = name .. ':' .. int(i) .. ':'
        local b = redis.call('HMGET', buckets, p .. 'n', p .. 's', p .. 'p', p .. 'g')
        if b[1] then
          n, sum = n - tonumber(b[1]), sum - tonumber(b[2])
          pos, neg = pos - tonumber(b[3]), neg - tonumber(b[4])
          redis.call('HDEL', buckets, p .. 'n', p .. 's', p .. 'p', p .. 'g')
        end
      end
      if n == 0 then sum = 0 end
      head = idx
    end
    if idx > head - nb then
      local p = name .. ':' .. int(idx) .. ':'
      local b = redis.call('HMGET', buckets, p .. 'n', p .. 's', p .. 'p', p .. 'g')
      redis.call('HSET', buckets, p .. 'n', int((tonumber(b[1]) or 0) + 1), p .. 's', fmt((tonumber(b[2]) or 0) + score),
                 p .. 'p', int((tonumber(b[3]) or 0) + pos1), p .. 'g', int((tonumber(b[4]) or 0) + neg1))
      n, sum, pos, neg = n + 1, sum + score, pos + pos1, neg + neg1
    end
    local mean, pshare, nshare = 0, 0, 0
    if n > 0 then mean, pshare, nshare = sum / n, pos / n, neg / n end
    for _, kv in ipairs({{'head', int(head)}, {'count', int(n)}, {'sum', fmt(sum)}, {'pos', int(pos)},
                         {'neg', int(neg)}, {'mean', fmt(mean)}, {'pos_share', fmt(pshare)},
                         {'neg_share', fmt(nshare)}}) do
      out[#out + 1] = name .. ':' .. kv[1]
      out[#out + 1] = kv[2]
    end
  end
  redis.call('HSET', agg, unpack(out))

  redis.call('ZADD', zdocs, ts, ARGV[1])
  redis.call('ZREMRANGEBYSCORE', zdocs, '-inf', '(' .. int(last - retention))
  redis.call('ZADD', KEYS[2], 'GT', last, ticker)
  redis.call('PEXPIRE', zdocs, ticker_ttl)
  redis.call('PEXPIRE', buckets, ticker_ttl)
  redis.call('PEXPIRE', agg, ticker_ttl)
end
return 1
"""
