// One load-generator run in its own process (so it never shares an event loop with a server under test):
// autocannon over keep-alive HTTPS, with latencies kept at microsecond precision instead of autocannon's whole ms.
// @ts-check
'use strict';
const autocannon = require('autocannon');

/**
 * argv[2]: JSON { url, connections, durationSeconds, paths: string[] }. The paths are cycled per connection, so
 * ['/key/32' x9, '/key/0'] sends exactly 10 % bad lengths. Prints one JSON line with the result.
 */
const options = JSON.parse(process.argv[2]);

let latencies = new Float64Array(1 << 16);
let count = 0;
/** @type {Record<string, number>} */
const statuses = {};

const instance = autocannon(
  {
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    pipelining: 1,
    requests: options.paths.map((path) => ({ method: 'GET', path })),
  },
  (error, result) => {
    if (error) {
      process.stderr.write(`load generator failed: ${error.message}\n`);
      process.exit(1);
    }
    const sorted = latencies.subarray(0, count).sort();
    const at = (/** @type {number} */ share) => (count === 0 ? 0 : sorted[Math.max(0, Math.ceil(share * count) - 1)]); // nearest rank
    const summary = {
      requests: count,
      seconds: result.duration,
      requestsPerSecond: count / result.duration,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      errors: result.errors,
      timeouts: result.timeouts,
      statuses,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  },
);

instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
  if (count === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[count++] = responseTimeMs;
  statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
});
