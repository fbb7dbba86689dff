// A small HTTP/2 client for tests over real sockets: node:http2 sessions to 127.0.0.1, whole answers read to the end.
import * as http2 from 'node:http2';

/** One whole HTTP/2 answer, or how its stream ended without one. */
export interface H2Response {
  readonly status: number;
  readonly headers: http2.IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Opens a session to `url` (an https URL of a test server), certificates not verified unless `ca` is given, and
 * resolves once the server's SETTINGS arrived: only then does the client know how many streams it may open.
 */
export async function connectH2(url: string, options: http2.SecureClientSessionOptions = {}): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(url.replace('localhost', '127.0.0.1'), { rejectUnauthorized: options.ca !== undefined, servername: 'localhost', ...options });
  session.on('error', () => undefined); // surfaced through the requests that fail
  await new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', () => resolve());
    session.once('error', reject);
  });
  return session;
}

/** Sends one request on `session` and reads the whole answer; rejects when the stream ends without one. */
export function h2Request(session: http2.ClientHttp2Session, path: string, headers: http2.OutgoingHttpHeaders = {}, timeoutMs = 10_000): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ...headers });
    const timer = setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), timeoutMs);
    let responseHeaders: http2.IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (received) => (responseHeaders = received));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    stream.on('close', () => {
      clearTimeout(timer);
      if (responseHeaders === undefined) {
        reject(new Error(`stream closed without an answer (RST code ${stream.rstCode})`));
        return;
      }
      resolve({ status: Number(responseHeaders[':status']), headers: responseHeaders, body: Buffer.concat(chunks).toString('utf8') });
    });
    stream.end();
  });
}

/** Closes `session` and waits for it to be gone. */
export function closeH2(session: http2.ClientHttp2Session): Promise<void> {
  if (session.destroyed) {
    return Promise.resolve();
  }
  return new Promise((resolve) => session.close(() => resolve()));
}
