// Key length parsing and random key production: pure decisions plus one pool of CSPRNG bytes.
import { randomFillSync } from 'node:crypto';

/** The smallest and largest key length a client may request, in bytes. */
export interface LengthLimits {
  readonly minSize: number;
  readonly maxSize: number;
}

/** A parsed length, or why the text is not one. */
export type LengthResult = { readonly ok: true; readonly length: number } | { readonly ok: false; readonly reason: string };

const DIGIT_ZERO = 48;
const DIGIT_NINE = 57;

/**
 * Parses the `{length}` path segment: ASCII decimal digits only, within the limits.
 * A loop over char codes rather than a regex or `Number()`: it runs on every request, and `Number()` would accept
 * '1e3', '0x10', ' 16' and '16.5'. It stops as soon as the value passes max-size, so a 400-digit number costs nothing.
 */
export function parseLength(text: string, limits: LengthLimits): LengthResult {
  if (text.length === 0) {
    return invalidLength(limits);
  }
  let value = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < DIGIT_ZERO || code > DIGIT_NINE) {
      return invalidLength(limits);
    }
    value = value * 10 + (code - DIGIT_ZERO);
    if (value > limits.maxSize) {
      return invalidLength(limits);
    }
  }
  if (value < limits.minSize) {
    return invalidLength(limits);
  }
  return { ok: true, length: value };
}

/** The message every bad length gets: clients fix their request from it, so it names the allowed range. */
export function invalidLengthMessage(limits: LengthLimits): string {
  return `Invalid key length: must be a whole number of bytes from ${limits.minSize} to ${limits.maxSize}`;
}

function invalidLength(limits: LengthLimits): LengthResult {
  return { ok: false, reason: invalidLengthMessage(limits) };
}

/** Encodings a client may ask for with `?format=`. */
export const KEY_FORMATS = ['hex', 'base64', 'base64url'] as const;
export type KeyFormat = (typeof KEY_FORMATS)[number];

/** Returns the format named by `text`, or undefined when it is not one the server offers. */
export function parseKeyFormat(text: string): KeyFormat | undefined {
  return (KEY_FORMATS as readonly string[]).includes(text) ? (text as KeyFormat) : undefined;
}

/**
 * The length in characters of `length` bytes in `format`, without encoding any: what a HEAD request's Content-Length
 * says, so a HEAD never takes a key from the pool that nobody would receive.
 */
export function encodedLength(length: number, format: KeyFormat): number {
  switch (format) {
    case 'hex':
      return length * 2;
    case 'base64':
      return Math.ceil(length / 3) * 4;
    case 'base64url':
      return Math.ceil((length * 4) / 3);
  }
}

/** Hands out random bytes from a buffer that is filled in bulk. */
export interface RandomPool {
  /** Size of the pool buffer in bytes: the largest single take. */
  readonly size: number;
  /** How many times the buffer has been (re)filled. */
  readonly fills: number;
  /** `length` bytes never handed out before, encoded as text; the bytes are wiped from the pool. */
  takeEncoded(length: number, encoding: KeyFormat): string;
  /** A copy of `length` bytes never handed out before; the bytes are wiped from the pool. */
  take(length: number): Buffer;
}

/** Fills a buffer with random bytes; injectable so tests can prove which bytes were handed out. */
export type FillFunction = (buffer: Buffer) => void;

/**
 * A pool of CSPRNG bytes, filled in bulk and handed out in disjoint slices.
 *
 * Why this is as safe as one `randomBytes(length)` call per key: the bytes come from the same CSPRNG
 * (`randomFillSync` is `randomBytes` into an existing buffer), CSPRNG output bytes are independent, so any slice
 * of it is as unpredictable as a fresh call; the cursor only moves forward, so no byte ever reaches two clients;
 * the whole buffer is refilled before the cursor wraps; and each slice is zeroed the moment it has been copied
 * out, so a later memory disclosure of the pool cannot reveal a key already served. Each server owns its pool:
 * nothing is shared between servers. What it buys: one `getrandom` call per `size` bytes instead of one per key.
 */
export function createRandomPool(size: number, fill: FillFunction = randomFillSync): RandomPool {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`createRandomPool: size must be a positive integer, got ${size}`);
  }
  const buffer = Buffer.allocUnsafeSlow(size);
  let offset = size; // empty: the first take fills
  let fills = 0;

  function reserve(length: number): number {
    if (!Number.isInteger(length) || length < 0 || length > size) {
      throw new RangeError(`RandomPool: length must be an integer from 0 to ${size}, got ${length}`);
    }
    if (offset + length > size) {
      fill(buffer);
      fills++;
      offset = 0;
    }
    const start = offset;
    offset += length;
    return start;
  }

  return {
    size,
    get fills() {
      return fills;
    },
    takeEncoded(length, encoding) {
      const start = reserve(length);
      const text = buffer.toString(encoding, start, start + length);
      buffer.fill(0, start, start + length);
      return text;
    },
    take(length) {
      const start = reserve(length);
      const copy = Buffer.from(buffer.subarray(start, start + length));
      buffer.fill(0, start, start + length);
      return copy;
    },
  };
}
