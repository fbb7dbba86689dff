// The benchmark's baseline: a bare node:https server answering each known path with a precomputed constant, so
// the key server's cost can be read as "TLS + HTTP" (this) plus "ours" (the difference). Plain JavaScript, run
// with plain `node`, so nothing (no ts-node, no TypeScript compiler) sits in its memory or on its CPU.
// @ts-check
'use strict';
const https = require('node:https');
const { readFileSync } = require('node:fs');

/**
 * argv[2]: JSON { certFile, keyFile, answers: { [path]: { status, body } } }. Every answer carries the same headers
 * the key server sends, so the bytes on the wire match and only the work behind them differs.
 */
const options = JSON.parse(process.argv[2]);

/** @type {Map<string, { status: number, headers: Record<string, string | number>, body: string }>} */
const answers = new Map();
for (const [path, answer] of Object.entries(options.answers)) {
  const headers = {
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    Vary: 'Accept',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(answer.body),
    // The key server sends a fresh id on every answer: a constant one here puts the same bytes on the wire.
    'X-Request-Id': '00000000-0000-4000-8000-000000000000',
  };
  answers.set(path, { status: answer.status, headers, body: answer.body });
}
const notFound = { status: 404, headers: { 'Content-Length': 10 }, body: 'Not found\n' };

// The same certificate, protocol floor and connection timeouts as the key server (server/tls.ts, server/server.ts).
const server = https.createServer(
  {
    cert: readFileSync(options.certFile),
    key: readFileSync(options.keyFile),
    minVersion: 'TLSv1.2',
    maxHeaderSize: 8192,
    headersTimeout: 10_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 5_000,
  },
  (request, response) => {
    const answer = answers.get(request.url ?? '/') ?? notFound;
    response.writeHead(answer.status, answer.headers);
    response.end(answer.body);
  },
);
server.keepAliveTimeout = 5_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
