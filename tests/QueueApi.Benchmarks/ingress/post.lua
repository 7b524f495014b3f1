-- POSTs one JSON body per request and counts answers by status, across wrk's threads.
-- BATCH=n (environment) sends a JSON array of n payloads instead of one payload.
-- Every payload is exactly 100 bytes of JSON.
local batch = tonumber(os.getenv("BATCH") or "0")
local sleep = os.getenv("SLEEP_MS")

local function payload(i)
  local head = sleep and ('{"sleepMs":' .. sleep .. ',"n":' .. i .. ',"pad":"') or ('{"n":' .. i .. ',"pad":"')
  return head .. string.rep("x", 100 - #head - 2) .. '"}'
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if batch > 0 then
  local items = {}
  for i = 1, batch do items[i] = payload(i) end
  wrk.body = "[" .. table.concat(items, ",") .. "]"
else
  wrk.body = payload(1)
end

-- KEY_HEADER=name (environment): every request carries that header with a value unique to it, made the same
-- way whatever the name, so Idempotency-Key and a header the service ignores cost the client alike.
local key_header = os.getenv("KEY_HEADER")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  counts = {}
  sent = 0
  prefix = string.format("%d-%d-", os.time(), tid or 0)
end

if key_header then
  function request()
    sent = sent + 1
    return wrk.format(nil, nil, { ["Content-Type"] = "application/json", [key_header] = prefix .. sent }, wrk.body)
  end
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do
      total[status] = (total[status] or 0) + n
    end
  end
  io.write(string.format("RESULT seconds %.3f\n", summary.duration / 1e6))
  io.write(string.format("RESULT requests %d\n", summary.requests))
  io.write(string.format("RESULT socket_errors %d\n",
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("RESULT p99_ms %.3f\n", latency:percentile(99) / 1000))
  for status, n in pairs(total) do
    io.write(string.format("RESULT status_%d %d\n", status, n))
  end
end
