// Strict schema validation of synthesized objects: the Kubernetes OpenAPI schemas (kubernetes-models and
// @kubernetes-models/*) with unknown fields rejected, as the API server's strict field validation rejects them.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const worker = path.join(__dirname, 'strict-validate-worker.mjs');

/** A manifest object as synthesized: at least apiVersion, kind and metadata.name. */
export type ManifestObject = { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } & Record<string, unknown>;

/** `Kind/namespace/name` of an object, for messages. */
export function describeObject(object: ManifestObject): string {
  const namespace = typeof object.metadata?.namespace === 'string' ? `${object.metadata.namespace}/` : '';
  return `${String(object.kind)}/${namespace}${String(object.metadata?.name)}`;
}

/**
 * Every schema violation and unknown field of every object, as `Kind/ns/name: /path: message` lines;
 * an empty list when all are valid. Objects of an API group without a schema are errors too.
 */
export function strictValidationErrors(objects: readonly ManifestObject[]): string[] {
  const output = execFileSync(process.execPath, [worker], {
    input: JSON.stringify(objects),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const results = JSON.parse(output) as string[][];
  return results.flatMap((errors, i) => errors.map((error) => `${describeObject(objects[i])}: ${error}`));
}

/** Fails the test, listing every violation, unless all objects are strictly valid. */
export function expectStrictlyValid(objects: readonly ManifestObject[]): void {
  expect(objects.length).toBeGreaterThan(0);
  expect(strictValidationErrors(objects)).toEqual([]);
}
