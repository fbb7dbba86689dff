// Key length parsing, the power-of-two length label and the random pool's never-twice guarantee.
import { createRandomPool, encodedLength, KEY_FORMATS, parseKeyFormat, parseLength } from '../../server/keys';

const limits = { minSize: 1, maxSize: 1024 };

describe('parseLength', () => {
  it.each([
    ['1', 1],
    ['32', 32],
    ['1024', 1024],
    ['0016', 16],
  ])('accepts %j as %d', (text, length) => {
    expect(parseLength(text, limits)).toEqual({ ok: true, length });
  });

  it.each(['0', '-1', 'abc', '1e3', '0x10', '16.5', ' 16', '16 ', '+16', '1025', '', '%31%36', '１６', '9'.repeat(400)])(
    'rejects %j with a reason naming the allowed range',
    (text) => {
      const result = parseLength(text, limits);
      expect(result).toEqual({ ok: false, reason: 'Invalid key length: must be a whole number of bytes from 1 to 1024' });
    },
  );

  it('applies a raised min-size and lowered max-size', () => {
    const narrow = { minSize: 16, maxSize: 64 };
    expect(parseLength('15', narrow).ok).toBe(false);
    expect(parseLength('16', narrow).ok).toBe(true);
    expect(parseLength('64', narrow).ok).toBe(true);
    expect(parseLength('65', narrow).ok).toBe(false);
  });
});

describe('parseKeyFormat', () => {
  it('knows hex, base64 and base64url and nothing else', () => {
    expect(['hex', 'base64', 'base64url'].map(parseKeyFormat)).toEqual(['hex', 'base64', 'base64url']);
    expect(parseKeyFormat('HEX')).toBeUndefined();
    expect(parseKeyFormat('binary')).toBeUndefined();
    expect(parseKeyFormat('toString')).toBeUndefined();
  });
});

describe('encodedLength', () => {
  it('is the length of the encoded bytes for every format and every length up to 100', () => {
    for (const format of KEY_FORMATS) {
      for (let length = 0; length <= 100; length++) {
        expect(encodedLength(length, format)).toBe(Buffer.alloc(length).toString(format).length);
      }
    }
  });
});

describe('createRandomPool', () => {
  // The fill marks every byte 0xff; the pool zeroes bytes once handed out. A byte handed out twice would come back
  // as 0x00, so "all 0xff" over many takes and refills proves the slices never overlap.
  function markingFill(buffer: Buffer): void {
    buffer.fill(0xff);
  }

  it('never hands out the same byte twice across many takes and refills', () => {
    const pool = createRandomPool(1000, markingFill);
    let taken = 0;
    for (let index = 0; index < 5000; index++) {
      const length = 1 + ((index * 7919) % 300);
      const bytes = pool.take(length);
      expect(bytes.length).toBe(length);
      if (!bytes.every((byte) => byte === 0xff)) {
        throw new Error(`take #${index} returned bytes that had been handed out before`);
      }
      taken += length;
    }
    expect(pool.fills).toBeGreaterThanOrEqual(Math.ceil(taken / 1000));
  });

  it('never hands out the same byte twice through takeEncoded', () => {
    const pool = createRandomPool(256, markingFill);
    for (let index = 0; index < 2000; index++) {
      const length = 1 + (index % 100);
      expect(pool.takeEncoded(length, 'hex')).toBe('ff'.repeat(length));
    }
  });

  it('refills only when the rest of the buffer is too short', () => {
    const pool = createRandomPool(100, markingFill);
    pool.take(60);
    pool.take(40);
    expect(pool.fills).toBe(1);
    pool.take(1);
    expect(pool.fills).toBe(2);
  });

  it('encodes hex, base64 and base64url of the same bytes it would copy', () => {
    let counter = 0;
    const countingFill = (buffer: Buffer): void => {
      for (let index = 0; index < buffer.length; index++) buffer[index] = counter++ & 0xff;
    };
    const pool = createRandomPool(64, countingFill);
    expect(pool.takeEncoded(4, 'hex')).toBe('00010203');
    expect(pool.takeEncoded(3, 'base64')).toBe(Buffer.from([4, 5, 6]).toString('base64'));
    expect(pool.takeEncoded(3, 'base64url')).toBe(Buffer.from([7, 8, 9]).toString('base64url'));
  });

  it('rejects a take larger than the pool', () => {
    expect(() => createRandomPool(16).take(17)).toThrow('length must be an integer from 0 to 16, got 17');
  });

  it('rejects a pool size that is not a positive integer', () => {
    expect(() => createRandomPool(0)).toThrow('size must be a positive integer, got 0');
  });

  it('hands out 10,000 distinct 16-byte keys from the real CSPRNG', () => {
    const pool = createRandomPool(65536);
    const keys = new Set<string>();
    for (let index = 0; index < 10_000; index++) {
      keys.add(pool.takeEncoded(16, 'hex'));
    }
    expect(keys.size).toBe(10_000);
  });
});
