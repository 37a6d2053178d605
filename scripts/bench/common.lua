-- Shared wrk helpers: per-thread status counting and a machine-readable summary.
-- Loaded with dofile() by get.lua / put_gallery.lua (each wrk thread has its own Lua state).
--
-- Each thread keeps globals `statuses` (status -> count) and `non2xx`; done() (which runs
-- in wrk's main Lua state) collects them through thread:get() and prints one line
--   BENCH_JSON {...}
-- that scripts/bench/bench.py parses.  wrk's own summary is printed as usual.

local M = {}

local threads = {}
statuses = {}
non2xx = 0

function M.setup(thread)
  thread:set("id", #threads)          -- 0-based thread index
  table.insert(threads, thread)
end

function M.response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

local function num(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  return string.format("%.3f", x)
end

function M.done(summary, latency, requests)
  local total_non2xx = 0
  local merged = {}
  for _, t in ipairs(threads) do
    total_non2xx = total_non2xx + (t:get("non2xx") or 0)
    local s = t:get("statuses") or {}
    for code, n in pairs(s) do merged[code] = (merged[code] or 0) + n end
  end
  local codes = {}
  for code, n in pairs(merged) do table.insert(codes, string.format('"%d":%d', code, n)) end
  table.sort(codes)

  local secs = summary.duration / 1e6
  local e = summary.errors
  local out = {}
  local function add(k, v) table.insert(out, string.format('"%s":%s', k, v)) end
  add("duration_s", num(secs))
  add("requests", string.format("%d", summary.requests))
  add("bytes", string.format("%d", summary.bytes))
  add("rps", num(summary.requests / secs))
  add("lat_mean_ms", num(latency.mean / 1000))
  add("lat_stdev_ms", num(latency.stdev / 1000))
  add("lat_min_ms", num(latency.min / 1000))
  add("lat_max_ms", num(latency.max / 1000))
  add("lat_p50_ms", num(latency:percentile(50) / 1000))
  add("lat_p90_ms", num(latency:percentile(90) / 1000))
  add("lat_p99_ms", num(latency:percentile(99) / 1000))
  add("lat_p999_ms", num(latency:percentile(99.9) / 1000))
  add("err_connect", string.format("%d", e.connect))
  add("err_read", string.format("%d", e.read))
  add("err_write", string.format("%d", e.write))
  add("err_timeout", string.format("%d", e.timeout))
  add("err_status_ge400", string.format("%d", e.status))   -- wrk's own "Non-2xx or 3xx" counter (status > 399)
  add("non2xx", string.format("%d", total_non2xx))          -- counted by response(): anything outside 200..299
  add("statuses", "{" .. table.concat(codes, ",") .. "}")
  io.write("BENCH_JSON {" .. table.concat(out, ",") .. "}\n")
end

return M
