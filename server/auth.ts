// Optional bearer-token access control for /key: tokens from a mounted file, compared by hash in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, watch, promises as fs, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';

/** Thrown when the token file cannot be used at start; the message names the file and the reason, never a token. */
export class TokenFileError extends Error {}

/** What a request's Authorization header amounts to. */
export type AuthResult = 'ok' | 'missing' | 'invalid';

/** The realm named in `WWW-Authenticate`, so clients know which credentials the server wants. */
export const AUTH_REALM = 'key-server';

/**
 * Parses a token file: one token per line; blank lines and lines starting with `#` are ignored, and surrounding
 * whitespace (a trailing newline from `kubectl create secret --from-file`) is dropped. Returns the SHA-256 of each.
 * Pure, so every rule has a table-driven test.
 */
export function parseTokenFile(text: string): Buffer[] {
  const hashes: Buffer[] = [];
  for (const line of text.split('\n')) {
    const token = line.trim();
    if (token === '' || token.startsWith('#')) {
      continue;
    }
    hashes.push(sha256(token));
  }
  return hashes;
}

/**
 * The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 6750), or undefined when the
 * header is absent or uses another scheme.
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 7 || header.slice(0, 7).toLowerCase() !== 'bearer ') {
    return undefined;
  }
  const token = header.slice(7).trim();
  return token === '' ? undefined : token;
}

/**
 * Whether `token` is one of `hashes`. Comparing SHA-256 digests with `timingSafeEqual` gives every comparison the
 * same length and duration whatever the token, and the loop never stops early, so the time taken reveals neither
 * how much of a token matched nor which token did.
 */
export function tokenMatches(token: string, hashes: readonly Buffer[]): boolean {
  const presented = sha256(token);
  let matched = false;
  for (const hash of hashes) {
    matched = timingSafeEqual(presented, hash) || matched;
  }
  return matched;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** What the server needs from access control. */
export interface Authenticator {
  /** Checks the value of a request's Authorization header. */
  check(authorizationHeader: string | undefined): AuthResult;
  /** Re-reads the token file now; the watcher does this by itself when the file changes. */
  reload(): Promise<'unchanged' | 'reloaded' | 'failed'>;
  /** Tokens in force: 0 after a reload found the file missing, unreadable or empty (every client is then refused). */
  readonly tokenCount: number;
  /** Stops watching the file. */
  close(): void;
}

/** How the authenticator reports reloads. */
export interface AuthenticatorOptions {
  /** Called after the token set changed. */
  readonly onReload?: (tokenCount: number) => void;
  /**
   * Called on every check that finds the file missing, unreadable or empty, so a failure counter keeps rising while
   * it stays so; `repeated` is true when this same failure was reported before (log it once). No token is then in force.
   */
  readonly onFailure?: (error: Error, repeated: boolean) => void;
  /** Seconds between polls, behind the file watch. @default 30 */
  readonly pollInterval?: number;
  /** Milliseconds to wait after a file event so a writer can finish. @default 200 */
  readonly settleDelayMs?: number;
}

/** Reads the token file at start (synchronously: nothing may listen before access control is known to work). */
function readTokensOrThrow(file: string): { text: string; hashes: Buffer[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TokenFileError(`cannot read token file ${file}: ${(error as Error).message}`);
  }
  const hashes = parseTokenFile(text);
  if (hashes.length === 0) {
    // An empty file would lock every client out; that is a mistake to report, not a state to serve.
    throw new TokenFileError(`token file ${file} holds no tokens (one per line; # starts a comment)`);
  }
  return { text, hashes };
}

/**
 * Creates the authenticator for `file` and watches it. As for the certificate, the directory is watched (a Secret
 * volume swaps a `..data` symlink) and a slow poll backs the watch up.
 *
 * Revocation fails closed: emptying the file (or leaving only comments) and deleting it are how tokens get revoked,
 * so a file that cannot be read or holds no token leaves no token in force and every /key request is refused until a
 * good file appears. Keeping the old tokens would keep a revoked token valid for as long as the file stays broken.
 */
export function createAuthenticator(file: string, options: AuthenticatorOptions = {}): Authenticator {
  const initial = readTokensOrThrow(file);
  /** The text of the file in force; undefined after a failure, so the next good read always applies. */
  let currentText: string | undefined = initial.text;
  let hashes = initial.hashes;
  let lastFailure: string | undefined;
  let running: Promise<'unchanged' | 'reloaded' | 'failed'> = Promise.resolve('unchanged');
  let closed = false;
  let settleTimer: NodeJS.Timeout | undefined;

  async function reloadOnce(): Promise<'unchanged' | 'reloaded' | 'failed'> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      return fail(`read:${code}`, new TokenFileError(`cannot read token file ${file}: ${(error as Error).message}; every client is refused`));
    }
    if (text === currentText) {
      return 'unchanged';
    }
    const parsed = parseTokenFile(text);
    if (parsed.length === 0) {
      return fail(`empty:${text}`, new TokenFileError(`token file ${file} holds no tokens; every client is refused`));
    }
    currentText = text;
    hashes = parsed;
    lastFailure = undefined;
    options.onReload?.(parsed.length);
    return 'reloaded';
  }

  function fail(failure: string, error: Error): 'failed' {
    hashes = [];
    currentText = undefined;
    const repeated = lastFailure === failure;
    lastFailure = failure;
    options.onFailure?.(error, repeated);
    return 'failed';
  }

  function reload(): Promise<'unchanged' | 'reloaded' | 'failed'> {
    running = running.then(() => (closed ? 'unchanged' : reloadOnce()));
    return running;
  }

  const settleDelayMs = options.settleDelayMs ?? 200;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(file), { persistent: false }, () => {
      clearTimeout(settleTimer);
      settleTimer = setTimeout(() => void reload(), settleDelayMs);
      settleTimer.unref();
    });
    watcher.on('error', () => undefined); // the directory went away; the poll still runs
  } catch {
    // Some file systems cannot be watched; the poll covers them.
  }
  const poll = setInterval(() => void reload(), (options.pollInterval ?? 30) * 1000);
  poll.unref();

  return {
    check(authorizationHeader) {
      const token = bearerToken(authorizationHeader);
      if (token === undefined) {
        return 'missing';
      }
      return tokenMatches(token, hashes) ? 'ok' : 'invalid';
    },
    reload,
    get tokenCount() {
      return hashes.length;
    },
    close() {
      closed = true;
      clearInterval(poll);
      clearTimeout(settleTimer);
      watcher?.close();
    },
  };
}
