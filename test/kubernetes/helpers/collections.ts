// A watched collection kept as a map by name, and waits that end on the event making a condition true (or fail at a
// deadline saying what the collection last looked like).
import type { ControlPlane } from './control-plane';
import { listAndWatch, type Watch, type WatchEvent } from './watch';

/** The metadata every watched object has. */
export interface Named {
  readonly metadata: { readonly name: string; readonly namespace?: string };
}

/** The objects of a collection as the last event left them, by namespace/name. */
export type Snapshot<T> = ReadonlyMap<string, T>;

function keyOf(object: Named): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

/** Applies one watch event to `objects`. */
export function applyEvent<T extends Named>(objects: Map<string, T>, event: WatchEvent<T>): void {
  if (event.type === 'DELETED') objects.delete(keyOf(event.object));
  else objects.set(keyOf(event.object), event.object);
}

/**
 * Watches `collectionPath`, calling `onChange` with the whole collection once as listed and again after every
 * event (never with a half-listed collection, which would look like pods missing).
 */
export async function watchCollection<T extends Named>(controlPlane: ControlPlane, collectionPath: string, onChange: (objects: Snapshot<T>) => void): Promise<Watch> {
  const objects = new Map<string, T>();
  return listAndWatch<T>(controlPlane, collectionPath, (items) => {
    for (const item of items) objects.set(keyOf(item), item);
    onChange(objects);
  }, (event) => {
    applyEvent(objects, event);
    onChange(objects);
  });
}

/**
 * Resolves with the collection once `condition` holds for it (checked on the listed state and after every change);
 * rejects after `timeoutMs` with `describe` of the last state.
 */
export async function waitForCollection<T extends Named>(
  controlPlane: ControlPlane, collectionPath: string, what: string, condition: (objects: Snapshot<T>) => boolean,
  options: { timeoutMs?: number; describe?: (objects: Snapshot<T>) => string } = {},
): Promise<Snapshot<T>> {
  let last: Snapshot<T> = new Map();
  let settle: (objects: Snapshot<T>) => void = () => undefined;
  const done = new Promise<Snapshot<T>>((resolve) => { settle = resolve; });
  const watch = await watchCollection<T>(controlPlane, collectionPath, (objects) => {
    last = objects;
    if (condition(objects)) settle(new Map(objects));
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs / 1000} s; last state:\n${(options.describe ?? describeNames)(last)}`)), timeoutMs);
  });
  try {
    return await Promise.race([done, timedOut, watch.failed]);
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
}

function describeNames(objects: Snapshot<Named>): string {
  return [...objects.keys()].join('\n') || '(empty)';
}
