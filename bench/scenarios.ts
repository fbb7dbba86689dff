// The load scenarios, and the constant answers that make the baseline a fair stand-in for each of them.
import { invalidLengthMessage } from '../server/keys';
import type { Protocol } from './processes';

/** One load scenario: the same paths and connections for the key server and the baseline. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly connections: number;
  /** Cycled per connection by the load generator. */
  readonly paths: readonly string[];
  /** HTTP/2 scenarios run against the bare node:http2 baseline with h2load. @default 'http/1.1' */
  readonly protocol?: Protocol;
  /** HTTP/2: requests in flight per connection. */
  readonly streams?: number;
}

/** The bad length of the mixed scenario: 0 is below every min-size, so it always answers 400. */
const BAD_LENGTH_PATH = '/key/0';

/** Nine good requests and one bad: exactly 10 % bad lengths on every connection. */
const MIXED_PATHS: readonly string[] = [...Array<string>(9).fill('/key/32'), BAD_LENGTH_PATH];

export const SCENARIOS: readonly Scenario[] = [
  { id: 'key32-c1', title: '/key/32, 1 connection', connections: 1, paths: ['/key/32'] },
  { id: 'key32-c50', title: '/key/32, 50 connections', connections: 50, paths: ['/key/32'] },
  { id: 'key32-c200', title: '/key/32, 200 connections', connections: 200, paths: ['/key/32'] },
  { id: 'key1024-c50', title: '/key/1024, 50 connections', connections: 50, paths: ['/key/1024'] },
  { id: 'mixed-c50', title: '/key/32 with 10 % bad lengths, 50 connections', connections: 50, paths: MIXED_PATHS },
  // HTTP/2: one connection carries many requests at once, so fewer connections than HTTP/1.1 load the server as much.
  { id: 'h2-key32-c10-m10', title: 'HTTP/2 /key/32, 10 connections × 10 streams', connections: 10, streams: 10, paths: ['/key/32'], protocol: 'h2' },
  { id: 'h2-key32-c1-m32', title: 'HTTP/2 /key/32, 1 connection × 32 streams', connections: 1, streams: 32, paths: ['/key/32'], protocol: 'h2' },
  { id: 'h2-key1024-c10-m10', title: 'HTTP/2 /key/1024, 10 connections × 10 streams', connections: 10, streams: 10, paths: ['/key/1024'], protocol: 'h2' },
];

/** The scenarios that vary only the connections, for the plot. */
export const CONNECTION_SWEEP: readonly string[] = ['key32-c1', 'key32-c50', 'key32-c200'];

/**
 * What the baseline answers, path by path: a constant of the size the key server sends (a hex key is two
 * characters per byte; a bad length gets the same 400 message), so both put the same bytes on the wire.
 */
export function baselineAnswers(limits: { minSize: number; maxSize: number }): Record<string, { status: number; body: string }> {
  return {
    '/key/32': { status: 200, body: 'a'.repeat(64) },
    '/key/1024': { status: 200, body: 'a'.repeat(2048) },
    [BAD_LENGTH_PATH]: { status: 400, body: `${invalidLengthMessage(limits)}\n` },
  };
}
