// List-then-watch against the test API server over HTTPS with the admin certificate: every change to a collection
// as the API server streams it, so a test sees each intermediate state (a rollout's or a drain's) instead of
// sampling it with polls.
import { readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import type { ControlPlane } from './control-plane';

/** One change to a watched collection. */
export interface WatchEvent<T> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: T;
}

/** A running watch; `stop()` closes its connection. */
export interface Watch {
  readonly stop: () => void;
  /** Rejects when the stream fails (the API server closed it early or sent an ERROR event). */
  readonly failed: Promise<never>;
}

function requestOptions(controlPlane: ControlPlane, path: string): RequestOptions {
  const url = new URL(controlPlane.serverUrl);
  return {
    host: url.hostname, port: Number(url.port), path, method: 'GET',
    ca: readFileSync(controlPlane.caFile), cert: readFileSync(controlPlane.admin.certFile), key: readFileSync(controlPlane.admin.keyFile),
  };
}

/** GET `path` as JSON. */
export function getJson<T>(controlPlane: ControlPlane, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ ...requestOptions(controlPlane, path), timeout: 10_000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      response.on('end', () => {
        if (response.statusCode !== 200) reject(new Error(`GET ${path}: ${response.statusCode} ${body}`));
        else resolve(JSON.parse(body) as T);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Lists `collectionPath` (e.g. `/api/v1/namespaces/x/pods?labelSelector=...`), hands the items to `onListed`, then
 * streams every later change to `onEvent` from the list's resourceVersion, so no change between the two is lost.
 */
export async function listAndWatch<T>(controlPlane: ControlPlane, collectionPath: string, onListed: (items: readonly T[]) => void, onEvent: (event: WatchEvent<T>) => void): Promise<Watch> {
  const list = await getJson<{ metadata: { resourceVersion: string }; items: T[] }>(controlPlane, collectionPath);
  onListed(list.items);
  const separator = collectionPath.includes('?') ? '&' : '?';
  const watchPath = `${collectionPath}${separator}watch=true&resourceVersion=${list.metadata.resourceVersion}`;
  let stopped = false;
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => { fail = reject; });
  failed.catch(() => undefined);
  const req = request(requestOptions(controlPlane, watchPath), (response) => {
    let pending = '';
    response.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
        if (line === '') continue;
        const event = JSON.parse(line) as { type: string; object: T };
        if (event.type === 'ERROR') fail(new Error(`watch ${collectionPath}: ${JSON.stringify(event.object)}`));
        else if (event.type !== 'BOOKMARK') onEvent(event as WatchEvent<T>);
      }
    });
    response.on('end', () => { if (!stopped) fail(new Error(`watch ${collectionPath} ended early`)); });
  });
  req.on('error', (error) => { if (!stopped) fail(error); });
  req.end();
  return { stop: () => { stopped = true; req.destroy(); }, failed };
}
