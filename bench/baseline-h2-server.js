// The benchmark's HTTP/2 baseline: a bare node:http2 server (stream API, the fastest Node offers) answering each known
// path with a precomputed constant and the key server's headers, with the key server's HTTP/2 session limits, so the
// key server's HTTP/2 cost reads as "TLS + HTTP/2" (this) plus "ours" (the difference). Plain JavaScript, plain node.
// @ts-check
'use strict';
const http2 = require('node:http2');
const { readFileSync } = require('node:fs');

/** argv[2]: JSON { certFile, keyFile, answers: { [path]: { status, body } } }, as for baseline-server.js. */
const options = JSON.parse(process.argv[2]);

/** @type {Map<string, { headers: Record<string, string | number>, body: string }>} */
const answers = new Map();
for (const [path, answer] of Object.entries(options.answers)) {
  answers.set(path, {
    headers: {
      ':status': answer.status,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      vary: 'Accept',
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(answer.body),
      // The key server sends a fresh id on every answer: a constant one here puts the same bytes on the wire.
      'x-request-id': '00000000-0000-4000-8000-000000000000',
    },
    body: answer.body,
  });
}
const notFound = { headers: { ':status': 404, 'content-length': 10 }, body: 'Not found\n' };

// The key server's TLS floor and HTTP/2 limits (server/tls.ts, server/http2-limits.ts); nothing else.
const server = http2.createSecureServer({
  cert: readFileSync(options.certFile),
  key: readFileSync(options.keyFile),
  minVersion: 'TLSv1.2',
  settings: { maxConcurrentStreams: 32, maxHeaderListSize: 8192, enablePush: false },
  maxHeaderListPairs: 64,
  maxSessionMemory: 2,
});
server.on('stream', (stream, headers) => {
  const answer = answers.get(String(headers[':path'])) ?? notFound;
  stream.on('error', () => undefined);
  // A copy: respond() adds to the object it is given.
  stream.respond({ ...answer.headers });
  stream.end(answer.body);
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
});
