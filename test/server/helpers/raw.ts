// Raw TCP exchanges, for requests no well-behaved HTTP client would send.
import * as net from 'node:net';

/** What came back on one raw connection. */
export interface RawExchange {
  /** Every byte the server sent, as latin1 text. */
  readonly received: string;
  /** Whether the server closed (or reset) the connection before the deadline. */
  readonly closedByServer: boolean;
  /** Milliseconds from connecting to the close, or to the deadline. */
  readonly elapsedMs: number;
}

/** Connects to 127.0.0.1:`port`, writes `request`, and reads until the server closes or `timeoutMs` passes. */
export function rawExchange(port: number, request: string | Buffer, timeoutMs = 5000): Promise<RawExchange> {
  return new Promise((resolve) => {
    const startedAt = Date.now();
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let settled = false;
    const finish = (closedByServer: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(chunks).toString('latin1'), closedByServer, elapsedMs: Date.now() - startedAt });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

/** The status codes of every HTTP/1.x response in `received`, in order. */
export function statusCodes(received: string): number[] {
  return [...received.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((match) => Number(match[1]));
}
