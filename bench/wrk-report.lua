-- wrk script for the benchmark's cross-check (`npm run bench -- --generator wrk`): cycles the paths given after
-- `--` and prints one JSON line, in the shape bench/load-generator.js prints, when the run is done.
local paths = {}
local index = 0

function init(args)
  for i, path in ipairs(args) do
    paths[i] = path
  end
end

function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
  io.write(string.format(
    '\n{"requests":%d,"seconds":%.6f,"requestsPerSecond":%.3f,"p50Ms":%.6f,"p99Ms":%.6f,"errors":%d,"timeouts":%d,"statuses":{"not 2xx/3xx":%d}}\n',
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors, summary.errors.timeout, summary.errors.status))
end
