// Sanity checks that bytes look random (not mangled, not repeated): byte chi-square, monobit and runs tests.
// They catch a broken encoder, a stuck buffer or a biased transform; they do not prove cryptographic quality.

/**
 * Bound on |z| for every test: a two-sided tail of about 1e-6, so a correct generator fails once in a million runs
 * rather than the NIST suite's one in a hundred, which would make a flaky test.
 */
export const Z_BOUND = 4.9;

/** The chi-square statistic of byte frequencies against uniform, with its bounds for 255 degrees of freedom. */
export function byteChiSquare(bytes: Uint8Array): { statistic: number; low: number; high: number } {
  const counts = new Float64Array(256);
  for (let index = 0; index < bytes.length; index++) counts[bytes[index]]++;
  const expected = bytes.length / 256;
  let statistic = 0;
  for (const count of counts) statistic += ((count - expected) ** 2) / expected;
  return { statistic, ...chiSquareBounds(255, Z_BOUND) };
}

/** Wilson–Hilferty: chi-square with k degrees of freedom is nearly normal after a cube root. */
export function chiSquareBounds(k: number, z: number): { low: number; high: number } {
  const spread = Math.sqrt(2 / (9 * k));
  const at = (sign: number) => k * (1 - 2 / (9 * k) + sign * z * spread) ** 3;
  return { low: at(-1), high: at(1) };
}

const ONES = new Uint8Array(256).map((_, byte) => {
  let count = 0;
  for (let bit = byte; bit > 0; bit >>= 1) count += bit & 1;
  return count;
});

/** NIST SP 800-22 frequency (monobit) test as a z-score: ones minus zeros over sqrt(n). */
export function monobitZ(bytes: Uint8Array): number {
  let ones = 0;
  for (let index = 0; index < bytes.length; index++) ones += ONES[bytes[index]];
  const bits = bytes.length * 8;
  return (2 * ones - bits) / Math.sqrt(bits);
}

/** NIST SP 800-22 runs test as a z-score: the number of runs of equal bits against its expectation. */
export function runsZ(bytes: Uint8Array): number {
  const bits = bytes.length * 8;
  let ones = 0;
  let transitions = 0;
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index];
    ones += ONES[byte];
    transitions += ONES[(byte ^ (byte >> 1)) & 0x7f];
    if (index > 0 && (bytes[index - 1] & 1) !== byte >> 7) transitions++;
  }
  const share = ones / bits;
  const runs = transitions + 1;
  return (runs - 2 * bits * share * (1 - share)) / (2 * Math.sqrt(2 * bits) * share * (1 - share));
}
