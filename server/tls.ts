// Loading the TLS certificate and key, and noticing when they change so the server can swap them without a restart.
import { X509Certificate } from 'node:crypto';
import { watch, type FSWatcher, readFileSync, promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { constants as cryptoConstants } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { TlsFiles } from './config';

/** A certificate and its key, read from disk and checked to belong together. */
export interface CertificatePair {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Expiry of the leaf certificate (the first in the PEM file). */
  readonly notAfter: Date;
  readonly subject: string;
  readonly serialNumber: string;
}

/** Thrown when the files cannot be read or do not form a usable pair; the message names the file and the reason. */
export class CertificateError extends Error {}

/** The lowest protocol served: TLS 1.0 and 1.1 are deprecated (RFC 8996). */
export const MIN_TLS_VERSION = 'TLSv1.2';

/**
 * TLS 1.2 suites: Mozilla's "intermediate" profile (guidelines 5.7) without its DHE suites, so every TLS 1.2 key
 * exchange is ECDHE (forward secrecy for the keys served) and every cipher an AEAD. Static-RSA key exchange
 * (`AES256-GCM-SHA384`), CBC with SHA-1 or SHA-2 MACs, 3DES and RC4 are not offered at all. TLS 1.3 has its own
 * suites (all AEAD with ephemeral key exchange); OpenSSL negotiates 1.3 whenever the client offers it.
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;

/** TLS 1.3 suites, in Mozilla's order (the OpenSSL default). */
export const TLS13_CIPHERS = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] as const;

/** Key exchange groups, Mozilla intermediate: X25519 first, then the NIST curves clients without it still use. */
export const ECDH_CURVES = 'X25519:prime256v1:secp384r1';

/**
 * OpenSSL refuses every renegotiation a TLS 1.2 client starts (TLS 1.3 has none): Node's own guard only allows three
 * every ten minutes, and each one costs the server a full handshake.
 */
export const TLS_SECURE_OPTIONS = cryptoConstants.SSL_OP_NO_RENEGOTIATION;

/** The options both listeners are created and re-keyed with; kept in one place so a reload cannot drop one. */
export function secureContextOptions(pair: CertificatePair): SecureContextOptions {
  return {
    cert: pair.cert,
    key: pair.key,
    minVersion: MIN_TLS_VERSION,
    ciphers: [...TLS13_CIPHERS, ...TLS12_CIPHERS].join(':'),
    ecdhCurve: ECDH_CURVES,
    secureOptions: TLS_SECURE_OPTIONS,
    // Mozilla intermediate: every suite offered is strong, so the client's order (it knows whether it has AES
    // hardware) decides.
    honorCipherOrder: false,
  };
}

/** Reads the pair at start; synchronous because nothing may listen before it is known to be good. */
export function readCertificatePair(files: TlsFiles): CertificatePair {
  return checkPair(readOrThrow(files.certFile, 'certificate'), readOrThrow(files.keyFile, 'key'), files);
}

function readOrThrow(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new CertificateError(`cannot read TLS ${what} ${file}: ${(error as Error).message}`);
  }
}

/** Parses the certificate and proves the key matches it, the way the TLS stack will when it is installed. */
function checkPair(cert: Buffer, key: Buffer, files: TlsFiles): CertificatePair {
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(cert);
  } catch (error) {
    throw new CertificateError(`TLS certificate ${files.certFile} is not a PEM certificate: ${(error as Error).message}`);
  }
  try {
    createSecureContext({ cert, key, minVersion: MIN_TLS_VERSION });
  } catch (error) {
    throw new CertificateError(`TLS key ${files.keyFile} does not fit certificate ${files.certFile}: ${(error as Error).message}`);
  }
  return { cert, key, notAfter: new Date(parsed.validTo), subject: parsed.subject, serialNumber: parsed.serialNumber };
}

/** What one look at the files found. */
export type ReloadOutcome = 'unchanged' | 'reloaded' | 'failed';

/** Watches the certificate files; see {@link watchCertificatePair}. */
export interface CertificateWatcher {
  /** Reads the files now and applies them if they changed; checks never overlap. */
  check(): Promise<ReloadOutcome>;
  /** Stops watching and polling. */
  close(): void;
}

/** How the watcher reacts. */
export interface CertificateWatcherOptions {
  /** Called with a new, verified pair. If it throws, the change counts as a failure and is retried on the next check. */
  readonly onReload: (pair: CertificatePair) => void;
  /**
   * Called on every check that finds the files broken (after one retry), so a failure counter keeps rising for as
   * long as the pair stays broken; `repeated` is true when this same broken pair was reported before (log it once).
   * The old pair stays in use.
   */
  readonly onFailure: (error: Error, repeated: boolean) => void;
  /** Seconds between polls, the safety net for file systems where `fs.watch` sees nothing. @default 30 */
  readonly pollInterval?: number;
  /** Milliseconds to wait after a file event so a writer can finish both files. @default 200 */
  readonly settleDelayMs?: number;
  /**
   * Milliseconds before the one retry of a check that found the files broken: cert and key are two reads, and a
   * check landing on a Kubernetes `..data` swap can read one old and one new file. @default 200
   */
  readonly retryDelayMs?: number;
}

/** What one read of the files found; a failure carries what was read, to tell a new broken pair from the same one. */
type Attempt =
  | { readonly outcome: 'unchanged' | 'reloaded' }
  | { readonly outcome: 'failed'; readonly cert: Buffer; readonly key: Buffer; readonly error: Error };

/**
 * Watches the directories holding the certificate and key. Directories, not files: Kubernetes updates a secret
 * volume by swapping a `..data` symlink, which a watch on the old file never reports; cert-manager and editors
 * replace files by rename. A slow poll backs the watch up, and contents, not timestamps, decide what changed.
 */
export function watchCertificatePair(files: TlsFiles, initial: CertificatePair, options: CertificateWatcherOptions): CertificateWatcher {
  const settleDelayMs = options.settleDelayMs ?? 200;
  const retryDelayMs = options.retryDelayMs ?? 200;
  let current = initial;
  let lastFailure: { cert: Buffer; key: Buffer } | undefined;
  let running: Promise<ReloadOutcome> = Promise.resolve('unchanged');
  let settleTimer: NodeJS.Timeout | undefined;
  let closed = false;

  async function attempt(): Promise<Attempt> {
    let cert: Buffer;
    let key: Buffer;
    try {
      [cert, key] = await Promise.all([fs.readFile(files.certFile), fs.readFile(files.keyFile)]);
    } catch (error) {
      // Mid-swap a file can be briefly missing: a failure like any broken pair, and the old one stays.
      return { outcome: 'failed', cert: Buffer.alloc(0), key: Buffer.alloc(0), error: error as Error };
    }
    if (cert.equals(current.cert) && key.equals(current.key)) {
      return { outcome: 'unchanged' };
    }
    let pair: CertificatePair;
    try {
      pair = checkPair(cert, key, files);
      options.onReload(pair);
    } catch (error) {
      return { outcome: 'failed', cert, key, error: error as Error };
    }
    current = pair;
    lastFailure = undefined;
    return { outcome: 'reloaded' };
  }

  async function checkOnce(): Promise<ReloadOutcome> {
    let result = await attempt();
    if (result.outcome === 'failed' && !closed) {
      await delay(retryDelayMs, undefined, { ref: false });
      result = await attempt();
    }
    if (result.outcome !== 'failed') {
      return result.outcome;
    }
    const repeated = lastFailure !== undefined && lastFailure.cert.equals(result.cert) && lastFailure.key.equals(result.key);
    lastFailure = { cert: result.cert, key: result.key };
    options.onFailure(result.error, repeated);
    return 'failed';
  }

  function check(): Promise<ReloadOutcome> {
    running = running.then(() => (closed ? 'unchanged' : checkOnce()));
    return running;
  }

  function scheduleCheck(): void {
    if (closed) {
      return;
    }
    clearTimeout(settleTimer);
    settleTimer = setTimeout(() => void check(), settleDelayMs);
    settleTimer.unref();
  }

  const watchers: FSWatcher[] = [];
  for (const directory of new Set([dirname(files.certFile), dirname(files.keyFile)])) {
    try {
      const watcher = watch(directory, { persistent: false }, scheduleCheck);
      watcher.on('error', () => undefined); // the directory went away; the poll still runs
      watchers.push(watcher);
    } catch {
      // Some file systems cannot be watched; the poll covers them.
    }
  }
  const poll = setInterval(() => void check(), (options.pollInterval ?? 30) * 1000);
  poll.unref();

  return {
    check,
    close() {
      closed = true;
      clearInterval(poll);
      clearTimeout(settleTimer);
      for (const watcher of watchers) {
        watcher.close();
      }
    },
  };
}
