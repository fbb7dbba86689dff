// Keep-alive that outlives load balancers: an AWS ALB or ingress-nginx reuses an idle upstream connection for up to
// 60 s, so a connection idle for 61 s must still be open and served (HTTP/1.1 and HTTP/2), with no 408 counted.
// This test waits 61 s on purpose: one wait, both protocols at once.
import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { metricNames as names } from '../../server/metric-catalogue';
import { DEFAULT_KEEP_ALIVE_TIMEOUT } from '../../server/config';
import { closeH2, connectH2, h2Request } from '../server/helpers/h2';
import { fetchText, parsePrometheusText, sampleValue } from '../server/helpers/http';
import { startTestServer } from '../server/helpers/server';
import { createTestCertificate, makeTempDirectory } from '../server/helpers/tls';

const IDLE_MS = 61_000;

it(`serves a request on an HTTP/1.1 connection and an HTTP/2 session each left idle for ${IDLE_MS / 1000} s`, async () => {
  const temp = makeTempDirectory();
  const certificate = createTestCertificate(temp.directory);
  // Every timeout at its default: headers 10 s checked every second, keep-alive from the config's default.
  const running = await startTestServer({ tls: certificate, metricsPort: 0 });
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: certificate.certPem });
  const session = await connectH2(running.url, { ca: certificate.certPem });
  try {
    const first = await fetchText(`${running.url}/key/16`, { agent, ca: certificate.certPem });
    expect(first.headers['keep-alive']).toBe(`timeout=${DEFAULT_KEEP_ALIVE_TIMEOUT}`);
    const socket = [...Object.values(agent.freeSockets)].flat()[0] as TLSSocket;
    let h1ClosedAfterMs: number | undefined;
    let h2Goaway: number | undefined;
    const idleSince = Date.now();
    socket.once('close', () => (h1ClosedAfterMs = Date.now() - idleSince));
    session.once('goaway', (code) => (h2Goaway = code));
    expect((await h2Request(session, '/key/16')).status).toBe(200);

    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));

    expect(h1ClosedAfterMs).toBeUndefined();
    expect(h2Goaway).toBeUndefined();
    const second = await fetchText(`${running.url}/key/16`, { agent, ca: certificate.certPem });
    const h2Second = await h2Request(session, '/key/16');
    expect([second.status, second.localPort]).toEqual([200, first.localPort]);
    expect(h2Second.status).toBe(200);
    const samples = parsePrometheusText((await fetchText(`${running.addresses.metricsUrl as string}/metrics`, { ca: certificate.certPem })).body);
    expect(sampleValue(samples, names.httpRequestsRejectedTotal, { code: '408' })).toBe(0);
    expect(sampleValue(samples, names.httpConnectionsTotal, { protocol: 'http/1.1' })).toBe(2); // this agent's, and the scrape's
    console.log(`keep-alive: HTTP/1.1 connection (local port ${first.localPort}) and HTTP/2 session reused after ${IDLE_MS / 1000} s idle, both served, no 408`);
  } finally {
    agent.destroy();
    await closeH2(session);
    await running.stop();
    temp.remove();
  }
}, IDLE_MS + 30_000);
