-- Replays prepared requests, in order, round the list: one per line of the file named by the first script
-- argument, as METHOD <tab> PATH <tab> AUTHORIZATION <tab> BODY (JSON, no tabs). At the end it prints one JSON
-- line: latency percentiles (microseconds), requests, throughput and the count of each status class.
local requests = {}
local position = 0
statuses = { ok = 0, client = 0, server = 0 }  -- global: done() reads it through thread:get

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  return fields
end

function init(args)
  for line in io.lines(args[1]) do
    local f = split(line)
    local headers = { ["Content-Type"] = "application/json" }
    if f[3] ~= "" then
      headers["Authorization"] = f[3]
    end
    requests[#requests + 1] = wrk.format(f[1], f[2], headers, f[4])
  end
end

function request()
  position = position % #requests + 1
  return requests[position]
end

function response(status, headers, body)
  if status < 300 then
    statuses.ok = statuses.ok + 1
  elseif status < 500 then
    statuses.client = statuses.client + 1
  else
    statuses.server = statuses.server + 1
  end
end

-- each thread counts its own statuses; wrk's done() sees only the main state, so threads report through
-- their own globals, which setup() keeps hold of
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests_)
  local ok, client, server = 0, 0, 0
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    ok, client, server = ok + s.ok, client + s.client, server + s.server
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "rps": %.1f, "p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d, '
      .. '"mean": %.1f, "ok": %d, "client_errors": %d, "server_errors": %d, "socket_errors": %d, "timeouts": %d}\n',
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency.max, latency.mean, ok, client, server,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout
  ))
end
