"""The Lua script that writes scored documents at most once each (docs/redis.md has the data model).

Python twin: ``stream.aggregates`` (same maths; ``tests/stream/test_redis_sink.py`` checks they agree).

One call writes a chunk of documents (one argument holding them all as JSON): per-document calls spent most
of their time packing ~20 arguments each in the Python client. Key names are built inside the script from
the prefix, so it needs a single Redis primary (not Redis Cluster, where a document's keys span slots anyway).

ARGV: 1 key prefix, 2 doc ttl ms, 3 ticker ttl ms, 4 retention ms, 5 EWMA tau ms,
      6 windows "name:bucket_ms:buckets,...",
      7 JSON array of {"id", "ts" (ms), "score", "sign" (+1 positive, -1 negative, 0 neutral), "tickers",
        "fields" (the doc hash, strings only)}.
Returns one integer per document: 1 written, 0 already there (a redelivery: nothing changes).

Hashes stay small (a bucket is one field "n sum pos neg"; a window's running state is one field "head n sum
pos neg") so that Redis keeps them in its compact encoding, where every lookup is a linear scan.
"""

WRITE_DOC = r"""
local prefix, doc_ttl, ticker_ttl = ARGV[1], ARGV[2], ARGV[3]
local retention, tau = tonumber(ARGV[4]), tonumber(ARGV[5])
local docs = cjson.decode(ARGV[7])

local function fmt(x) return string.format('%.17g', x) end
local function int(x) return string.format('%d', x) end
local PACK5 = '(%S+) (%S+) (%S+) (%S+) (%S+)'
local PACK4 = '(%S+) (%S+) (%S+) (%S+)'

local windows = {}
for name, bms, nb in string.gmatch(ARGV[6], '([^:,]+):(%d+):(%d+)') do
  windows[#windows + 1] = {name, tonumber(bms), tonumber(nb)}
end
local nw = #windows
local state_names = {'ewma_s', 'ewma_w', 'last_ts'}
for w = 1, nw do state_names[#state_names + 1] = windows[w][1] .. ':state' end

local function add_to_ticker(ticker, id, ts, score, pos1, neg1)
  local base = prefix .. 'tk:' .. ticker .. ':'
  local agg = base .. 'agg'
  local cur = redis.call('HMGET', agg, unpack(state_names))

  -- EWMA: time-decayed mean, the same whatever the arrival order.
  local s, wt, last = tonumber(cur[1]), tonumber(cur[2]), tonumber(cur[3])
  if last == nil then
    s, wt, last = score, 1, ts
  elseif ts >= last then
    local d = math.exp(-(ts - last) / tau)
    s, wt, last = s * d + score, wt * d + 1, ts
  else
    local d = math.exp(-(last - ts) / tau)
    s, wt = s + score * d, wt + d
  end
  local out = {'ewma_s', fmt(s), 'ewma_w', fmt(wt), 'last_ts', int(last), 'ewma', fmt(s / wt)}

  -- Rolling windows: running sums over the buckets ending at the newest bucket.
  for w = 1, nw do
    local name, bms, nb = windows[w][1], windows[w][2], windows[w][3]
    local buckets = base .. 'buckets:' .. name
    local idx = math.floor(ts / bms)
    local head, n, sum, pos, neg = idx, 0, 0, 0, 0
    if cur[3 + w] then
      local h, a, b, c, d = string.match(cur[3 + w], PACK5)
      head, n, sum, pos, neg = tonumber(h), tonumber(a), tonumber(b), tonumber(c), tonumber(d)
    end
    if idx > head then
      for i = head - nb + 1, math.min(idx - nb, head) do
        local old = redis.call('HGET', buckets, int(i))
        if old then
          local a, b, c, d = string.match(old, PACK4)
          n, sum, pos, neg = n - tonumber(a), sum - tonumber(b), pos - tonumber(c), neg - tonumber(d)
          redis.call('HDEL', buckets, int(i))
        end
      end
      if n == 0 then sum = 0 end
      head = idx
    end
    if idx > head - nb then
      local bn, bs, bp, bg = 0, 0, 0, 0
      local old = redis.call('HGET', buckets, int(idx))
      if old then
        local a, b, c, d = string.match(old, PACK4)
        bn, bs, bp, bg = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
      end
      local new = redis.call('HSET', buckets, int(idx),
                             int(bn + 1) .. ' ' .. fmt(bs + score) .. ' ' .. int(bp + pos1) .. ' ' .. int(bg + neg1))
      if new == 1 then redis.call('PEXPIRE', buckets, ticker_ttl) end  -- a new bucket: refresh the TTL
      n, sum, pos, neg = n + 1, sum + score, pos + pos1, neg + neg1
    end
    local mean, pshare, nshare = 0, 0, 0
    if n > 0 then mean, pshare, nshare = sum / n, pos / n, neg / n end
    local state = int(head) .. ' ' .. int(n) .. ' ' .. fmt(sum) .. ' ' .. int(pos) .. ' ' .. int(neg)
    for _, kv in ipairs({{'state', state}, {'count', int(n)}, {'mean', fmt(mean)}, {'pos_share', fmt(pshare)},
                         {'neg_share', fmt(nshare)}}) do
      out[#out + 1] = name .. ':' .. kv[1]
      out[#out + 1] = kv[2]
    end
  end
  redis.call('HSET', agg, unpack(out))

  local zdocs = base .. 'docs'
  redis.call('ZADD', zdocs, ts, id)
  redis.call('ZREMRANGEBYSCORE', zdocs, '-inf', '(' .. int(last - retention))
  redis.call('ZADD', prefix .. 'tickers', 'GT', last, ticker)
  redis.call('PEXPIRE', zdocs, ticker_ttl)
  redis.call('PEXPIRE', agg, ticker_ttl)
end

local results = {}
for i, doc in ipairs(docs) do
  local key = prefix .. 'doc:' .. doc.id
  if redis.call('EXISTS', key) == 1 then
    results[i] = 0
  else
    local fields = {}
    for k, v in pairs(doc.fields) do
      fields[#fields + 1] = k
      fields[#fields + 1] = v
    end
    redis.call('HSET', key, unpack(fields))
    redis.call('PEXPIRE', key, doc_ttl)
    local pos1 = (doc.sign > 0) and 1 or 0
    local neg1 = (doc.sign < 0) and 1 or 0
    for _, ticker in ipairs(doc.tickers) do
      add_to_ticker(ticker, doc.id, doc.ts, doc.score, pos1, neg1)
    end
    results[i] = 1
  end
end
return results
"""
