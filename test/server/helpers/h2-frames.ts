// Raw HTTP/2 frames over TLS, for what node:http2's client will not send: floods, rapid resets in one write, HPACK bombs.
import * as tls from 'node:tls';

/** The connection preface every HTTP/2 client sends first. */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = { data: 0, headers: 1, rstStream: 3, settings: 4, ping: 6, goaway: 7, windowUpdate: 8 } as const;
export const Flags = { endStream: 0x1, ack: 0x1, endHeaders: 0x4 } as const;

/** One frame: 9-byte header (length, type, flags, stream id) and the payload. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

/** An HPACK integer with an `prefixBits`-bit prefix whose high bits are `firstByteFlags` (RFC 7541 §5.1). */
function hpackInteger(value: number, prefixBits: number, firstByteFlags: number): Buffer {
  const limit = (1 << prefixBits) - 1;
  if (value < limit) {
    return Buffer.from([firstByteFlags | value]);
  }
  const bytes = [firstByteFlags | limit];
  let rest = value - limit;
  while (rest >= 128) {
    bytes.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([hpackInteger(bytes.length, 7, 0), bytes]);
}

/** HPACK representations (RFC 7541 §6), literal strings only (no Huffman), enough to build any header block. */
export const hpack = {
  /** A field from the static or dynamic table by index (static 2 = `:method: GET`, 7 = `:scheme: https`). */
  indexed: (index: number): Buffer => hpackInteger(index, 7, 0x80),
  /** A literal value for a static-table name (1 = `:authority`, 4 = `:path`), not added to the dynamic table. */
  literalIndexedName: (nameIndex: number, value: string): Buffer => Buffer.concat([hpackInteger(nameIndex, 4, 0x00), hpackString(value)]),
  /** A literal name and value added to the dynamic table (the first one added becomes index 62). */
  literalIncremental: (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x40]), hpackString(name), hpackString(value)]),
  /** A literal name and value, not indexed. */
  literal: (name: string, value: string): Buffer => Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]),
};

/** The header block of `GET path` over https to localhost, then `extra` representations. */
export function getRequestBlock(path: string, extra: readonly Buffer[] = []): Buffer {
  return Buffer.concat([hpack.indexed(2), hpack.indexed(7), hpack.literalIndexedName(4, path), hpack.literalIndexedName(1, 'localhost'), ...extra]);
}

/** A HEADERS frame carrying a whole request without body on `streamId`. */
export function headersFrame(streamId: number, block: Buffer): Buffer {
  return frame(FrameType.headers, Flags.endStream | Flags.endHeaders, streamId, block);
}

/** RST_STREAM with `code` (8 = CANCEL). */
export function rstStreamFrame(streamId: number, code = 8): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FrameType.rstStream, 0, streamId, payload);
}

/** A raw HTTP/2 connection: TLS with ALPN h2, the preface and an empty SETTINGS sent; frames received are parsed. */
export interface RawH2Connection {
  readonly socket: tls.TLSSocket;
  /** Frames received so far (type, flags, stream id, payload). */
  readonly frames: Array<{ type: number; flags: number; streamId: number; payload: Buffer }>;
  /** Resolves when the server closes the connection. */
  readonly closed: Promise<void>;
  /** The GOAWAY error code the server sent, if any. */
  goawayCode(): number | undefined;
}

/** Opens a raw HTTP/2 connection to 127.0.0.1:`port` and resolves once TLS has negotiated h2. */
export async function connectRawH2(port: number): Promise<RawH2Connection> {
  const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['h2'] });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => (socket.alpnProtocol === 'h2' ? resolve() : reject(new Error(`ALPN gave ${String(socket.alpnProtocol)}`))));
    socket.once('error', reject);
  });
  const frames: RawH2Connection['frames'] = [];
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 9) {
      const length = buffered.readUIntBE(0, 3);
      if (buffered.length < 9 + length) break;
      frames.push({ type: buffered[3], flags: buffered[4], streamId: buffered.readUInt32BE(5) & 0x7fffffff, payload: buffered.subarray(9, 9 + length) });
      buffered = buffered.subarray(9 + length);
    }
  });
  socket.write(Buffer.concat([PREFACE, frame(FrameType.settings, 0, 0)]));
  return {
    socket,
    frames,
    closed,
    goawayCode() {
      const goaway = frames.find((received) => received.type === FrameType.goaway);
      return goaway === undefined ? undefined : goaway.payload.readUInt32BE(4);
    },
  };
}
