// The HTTP/2 limits set on purpose (server/http2-limits.ts), each against its abuse, over real sockets on 127.0.0.1:
// concurrent streams, header list size and HPACK bombs, rapid reset, SETTINGS and PING floods, clients that never read.
import * as http2 from 'node:http2';
import { metricNames as names } from '../../server/metric-catalogue';
import { closeH2, connectH2, h2Request } from './helpers/h2';
import { connectRawH2, frame, FrameType, getRequestBlock, headersFrame, hpack, rstStreamFrame, type RawH2Connection } from './helpers/h2-frames';
import { fetchText, parsePrometheusText, sampleValue, samplesOf, type Sample } from './helpers/http';
import { startTestServer, type RunningTestServer } from './helpers/server';
import { createTestCertificate, makeTempDirectory } from './helpers/tls';

/** Waits, in bounded 20 ms steps, until `condition` holds. */
async function eventually(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** As {@link eventually}, for conditions that need a scrape. */
async function eventuallyAsync(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The RST_STREAM codes the server sent, by stream. */
function resets(connection: RawH2Connection): Map<number, number> {
  return new Map(connection.frames.filter((received) => received.type === FrameType.rstStream).map((received) => [received.streamId, received.payload.readUInt32BE(0)]));
}

/** The streams the server sent a HEADERS frame (an answer) on. */
function answeredStreams(connection: RawH2Connection): Set<number> {
  return new Set(connection.frames.filter((received) => received.type === FrameType.headers).map((received) => received.streamId));
}

describe('HTTP/2 limits', () => {
  const temp = makeTempDirectory();
  let running: RunningTestServer;

  async function scrape(): Promise<Sample[]> {
    return parsePrometheusText((await fetchText(`${running.addresses.metricsUrl as string}/metrics`)).body);
  }
  async function keysGenerated(): Promise<number> {
    return samplesOf(await scrape(), names.keyGenerationsTotal).reduce((total, sample) => total + sample.value, 0);
  }
  /** A polite client still gets a key over HTTP/2 after the abuse, within a second. */
  async function politeClientServed(): Promise<number> {
    const startedAt = Date.now();
    const session = await connectH2(running.url);
    try {
      expect((await h2Request(session, '/key/16')).status).toBe(200);
    } finally {
      await closeH2(session);
    }
    const elapsed = Date.now() - startedAt;
    expect(elapsed).toBeLessThan(1000);
    return elapsed;
  }

  beforeAll(async () => {
    const certificate = createTestCertificate(temp.directory);
    // A 1 s send timeout keeps the non-reading cases short; the mechanism is the default one (10 s).
    running = await startTestServer({ tls: certificate, metricsPort: 0, maxSize: 8192 }, { limits: { sendTimeoutMs: 1000 } });
  });

  afterAll(async () => {
    await running.stop();
    temp.remove();
  });

  it('advertises its limits: 32 concurrent streams, an 8 KiB header list, no push', async () => {
    const session = http2.connect(running.url, { rejectUnauthorized: false });
    try {
      const settings = await new Promise<http2.Settings>((resolve) => session.once('remoteSettings', resolve));
      expect(settings).toMatchObject({ maxConcurrentStreams: 32, maxHeaderListSize: 8192, enablePush: false });
    } finally {
      await closeH2(session);
    }
  });

  it('refuses streams past 32 at once with REFUSED_STREAM and answers the 32', async () => {
    const connection = await connectRawH2(running.addresses.port);
    try {
      const streams = Array.from({ length: 50 }, (_, index) => 1 + 2 * index);
      connection.socket.write(Buffer.concat(streams.map((id) => headersFrame(id, getRequestBlock('/key/16')))));
      await eventually(() => answeredStreams(connection).size + resets(connection).size >= 50, 5000, '50 streams settled');
      const refused = [...resets(connection).values()].filter((code) => code === http2.constants.NGHTTP2_REFUSED_STREAM).length;
      console.log(`50 streams at once on one connection: ${answeredStreams(connection).size} answered, ${refused} refused with REFUSED_STREAM`);
      expect(answeredStreams(connection).size).toBe(32);
      expect(refused).toBe(18);
    } finally {
      connection.socket.destroy();
    }
  });

  it('refuses a decoded header list over 8 KiB with 431, and HPACK bombs (4 KB on the wire, 44 or 400 KB decoded) too, with no key', async () => {
    const keysBefore = await keysGenerated();
    // A client that has the server's SETTINGS (and acknowledged them) meets Node's own enforcement: a reset.
    const session = await connectH2(running.url);
    try {
      await expect(h2Request(session, '/key/16', { 'x-padding': 'a'.repeat(9000) })).rejects.toThrow(/ENHANCE_YOUR_CALM/);
    } finally {
      await closeH2(session);
    }
    // Before the acknowledgement (raw frames right after the preface) Node enforces nothing: the routes answer 431.
    const early = await connectRawH2(running.addresses.port);
    try {
      early.socket.write(headersFrame(1, getRequestBlock('/key/16', [hpack.literal('x-padding', 'a'.repeat(9000))])));
      await eventually(() => answeredStreams(early).has(1) || resets(early).has(1), 5000, 'the oversized header settled');
      expect(answeredStreams(early).has(1)).toBe(true);
    } finally {
      early.socket.destroy();
    }
    // The bomb: one 4,000-byte field added to the dynamic table, then referenced by its one-byte index: 10 times
    // (within the 64 header pairs: the routes refuse the decoded 44 KB list) and 99 times (past the pairs limit: Node
    // resets the stream with ENHANCE_YOUR_CALM before it is handed over).
    for (const [streamId, references] of [[1, 10], [3, 99]]) {
      const connection = await connectRawH2(running.addresses.port);
      try {
        const block = getRequestBlock('/key/16', [hpack.literalIncremental('x-bomb', 'b'.repeat(4000)), ...new Array<Buffer>(references).fill(hpack.indexed(62))]);
        connection.socket.write(headersFrame(streamId, block));
        await eventually(() => answeredStreams(connection).has(streamId) || resets(connection).has(streamId), 5000, 'the bomb settled');
        const outcome = answeredStreams(connection).has(streamId) ? 'answered' : `reset with code ${resets(connection).get(streamId)}`;
        console.log(`HPACK bomb: ${block.length} bytes on the wire, ${(references + 1) * 4038} decoded: ${outcome}`);
        expect(outcome).toBe(references < 64 ? 'answered' : `reset with code ${http2.constants.NGHTTP2_ENHANCE_YOUR_CALM}`);
      } finally {
        connection.socket.destroy();
      }
    }
    expect(await keysGenerated()).toBe(keysBefore);
    // The 9,000-byte literal sent before the SETTINGS acknowledgement, and the 10-reference bomb.
    expect(sampleValue(await scrape(), names.httpRequestsRejectedTotal, { code: '431' })).toBe(2);
    await politeClientServed();
  });

  it('generates no key for streams reset in the same write as their HEADERS (rapid reset, CVE-2023-44487)', async () => {
    const keysBefore = await keysGenerated();
    const unansweredBefore = sampleValue(await scrape(), names.httpRequestsUnansweredTotal, { reason: 'client_gone' });
    const connection = await connectRawH2(running.addresses.port);
    try {
      const pairs = Array.from({ length: 500 }, (_, index) => 1 + 2 * index).flatMap((id) => [headersFrame(id, getRequestBlock('/key/32')), rstStreamFrame(id)]);
      connection.socket.write(Buffer.concat(pairs));
      await eventuallyAsync(
        async () => sampleValue(await scrape(), names.httpRequestsUnansweredTotal, { reason: 'client_gone' }) - unansweredBefore >= 500, 5000, '500 streams settled',
      );
    } finally {
      connection.socket.destroy();
    }
    const unanswered = sampleValue(await scrape(), names.httpRequestsUnansweredTotal, { reason: 'client_gone' }) - unansweredBefore;
    console.log(`rapid reset, 500 HEADERS+RST_STREAM pairs in one write: ${(await keysGenerated()) - keysBefore} keys generated, ${unanswered} counted unanswered`);
    expect(await keysGenerated()).toBe(keysBefore);
    expect(unanswered).toBe(500);
    await politeClientServed();
  });

  it('closes a session that resets streams past the rapid-reset limit, counted once as h2_abuse, instead of leaving it open unread', async () => {
    const abuseBefore = sampleValue(await scrape(), names.httpConnectionsClosedTotal, { reason: 'h2_abuse' });
    const connection = await connectRawH2(running.addresses.port);
    const startedAt = Date.now();
    let pairs = 0;
    try {
      // Bounded: 2,000 HEADERS+RST_STREAM pairs, 20 per write, stopping when the server closes the connection.
      for (let id = 1; pairs < 2000 && !connection.socket.destroyed; id += 40) {
        connection.socket.write(Buffer.concat(Array.from({ length: 20 }, (_, index) => id + 2 * index)
          .flatMap((streamId) => [headersFrame(streamId, getRequestBlock('/key/32')), rstStreamFrame(streamId)])));
        pairs += 20;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await eventually(() => connection.socket.destroyed || connection.socket.readableEnded, 5000, 'the server closing the connection');
    } finally {
      connection.socket.destroy();
    }
    const goaway = connection.frames.find((received) => received.type === FrameType.goaway);
    console.log(`rapid reset, ${pairs} pairs sent: GOAWAY code ${goaway?.payload.readUInt32BE(4)}, connection closed after ${Date.now() - startedAt} ms`);
    // The server's limit, below nghttp2's, decides: ENHANCE_YOUR_CALM, not nghttp2's INTERNAL_ERROR.
    expect(goaway?.payload.readUInt32BE(4)).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    await eventuallyAsync(async () => sampleValue(await scrape(), names.httpConnectionsClosedTotal, { reason: 'h2_abuse' }) === abuseBefore + 1, 3000, 'one h2_abuse');
    await politeClientServed();
  });

  it('ends the session of a node:http2 client that opens and cancels streams without end, and keeps serving others', async () => {
    const keysBefore = await keysGenerated();
    const abuseBefore = sampleValue(await scrape(), names.httpConnectionsClosedTotal, { reason: 'h2_abuse' });
    const session = await connectH2(running.url);
    session.on('error', () => undefined);
    let opened = 0;
    let abuse = abuseBefore;
    try {
      // Bounded: at most 5,000 streams in batches of 100, stopping once the server has counted the session as abuse.
      for (let batch = 0; batch < 50 && abuse === abuseBefore && !session.destroyed; batch++) {
        for (let index = 0; index < 100; index++) {
          const stream = session.request({ ':path': '/key/32' });
          stream.on('error', () => undefined);
          stream.close(http2.constants.NGHTTP2_CANCEL);
          opened++;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
        abuse = sampleValue(await scrape(), names.httpConnectionsClosedTotal, { reason: 'h2_abuse' });
      }
    } finally {
      session.destroy();
    }
    const generated = (await keysGenerated()) - keysBefore;
    // Node's client may not notice the closed connection while it still has streams to send: the server's count and
    // its open-connection gauge (only this scrape's own connection left) say what the server did.
    const open = sampleValue(await scrape(), names.httpOpenConnections);
    console.log(`rapid reset from node:http2: session ended and counted after ${opened} streams opened and cancelled; ${generated} keys generated for streams still open when answered; ${open} connection open`);
    expect(abuse).toBe(abuseBefore + 1);
    expect(opened).toBeLessThan(5000);
    expect(generated).toBeLessThan(opened);
    expect(open).toBe(1);
    await politeClientServed();
  });

  it.each([
    ['SETTINGS', frame(FrameType.settings, 0, 0)],
    ['PING', frame(FrameType.ping, 0, 0, Buffer.alloc(8))],
  ])('closes a session flooding %s frames whose acknowledgements it never reads, counted as h2_abuse', async (kind, flood) => {
    const abuseBefore = sampleValue(await scrape(), names.httpConnectionsClosedTotal, { reason: 'h2_abuse' });
    const connection = await connectRawH2(running.addresses.port);
    connection.socket.pause();
    const startedAt = Date.now();
    let sent = 0;
    try {
      // Bounded: at most 5 s or 500,000 frames, stopping when the server closes the connection.
      while (!connection.socket.destroyed && Date.now() - startedAt < 5000 && sent < 500_000) {
        if (connection.socket.writableLength < 1_000_000) {
          connection.socket.write(Buffer.concat(new Array<Buffer>(200).fill(flood)));
          sent += 200;
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const closedAfterMs = Date.now() - startedAt;
      console.log(`${kind} flood, acknowledgements unread: closed by the server after ${sent} frames, ${closedAfterMs} ms`);
      expect(connection.socket.destroyed).toBe(true);
    } finally {
      connection.socket.destroy();
    }
    expect(sampleValue(await scrape(), names.httpConnectionsClosedTotal, { reason: 'h2_abuse' }) - abuseBefore).toBe(1);
    await politeClientServed();
  });

  it('holds at most 16 KiB of unsent answers and 8 waiting streams for a session that never reads, refuses the rest, then cuts it at the send timeout', async () => {
    const before = await scrape();
    const keysBefore = await keysGenerated();
    const connection = await connectRawH2(running.addresses.port);
    connection.socket.pause();
    try {
      // 32 streams of /key/8192: each answer is 16 KiB of hex, more than one client window allows to leave at once.
      connection.socket.write(Buffer.concat(Array.from({ length: 32 }, (_, index) => headersFrame(1 + 2 * index, getRequestBlock('/key/8192')))));
      await eventuallyAsync(
        async () => sampleValue(await scrape(), names.httpConnectionsClosedTotal, { reason: 'send_timeout' }) > sampleValue(before, names.httpConnectionsClosedTotal, { reason: 'send_timeout' }),
        5000,
        'the send timeout',
      );
    } finally {
      connection.socket.destroy();
    }
    const after = await scrape();
    const generated = (await keysGenerated()) - keysBefore;
    const declined = sampleValue(after, names.httpRequestsUnansweredTotal, { reason: 'backlog_limit' }) - sampleValue(before, names.httpRequestsUnansweredTotal, { reason: 'backlog_limit' });
    console.log(`32 streams of /key/8192, never read: ${generated} keys generated, ${declined} streams refused (REFUSED_STREAM, may be retried), session cut by the send timeout`);
    // All 32 arrive in one read: the first is answered (16 KiB unsent: the session's whole allowance), 8 wait, 23 are
    // refused. The client's 64 KiB window then lets about 4 answers leave: at most 5 keys, whatever else happens.
    expect(declined).toBe(32 - 1 - 8);
    expect(generated).toBeLessThanOrEqual(5);
  });
});
