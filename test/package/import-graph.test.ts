// The construct library reaches into server/ only for the server's contract (its flags and its metric names), never
// its runtime: a consumer synthesizing manifests loads no TLS, HTTP or prom-client code, and the two halves meet in
// those files alone.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const root = path.resolve(__dirname, '..', '..');

/** The server modules the constructs may import: the flag contract and the metric names. */
const serverContract = ['server/config.ts', 'server/metric-catalogue.ts'];

/** The project files `file` imports (relative imports only), resolved to paths relative to the root. */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(path.join(root, file), 'utf8'), true, true);
  return importedFiles.map((imported) => imported.fileName).filter((specifier) => specifier.startsWith('.')).flatMap((specifier) => {
    const base = path.join(path.dirname(path.join(root, file)), specifier);
    const candidate = [`${base}.ts`, path.join(base, 'index.ts'), base].find((option) => fs.existsSync(option) && fs.statSync(option).isFile());
    return candidate === undefined ? [] : [path.relative(root, candidate)];
  });
}

/** Every project file reachable from `entry` through relative imports. */
function reachableFrom(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (file.endsWith('.ts')) pending.push(...importsOf(file));
  }
  return seen;
}

describe('the import graph', () => {
  test('the construct library reaches into server/ only for the contract', () => {
    const serverFiles = [...reachableFrom('constructs/index.ts')].filter((file) => file.startsWith('server/')).sort();
    expect(serverFiles.filter((file) => !serverContract.includes(file))).toEqual([]);
    expect(serverFiles).toEqual(expect.arrayContaining(['server/config.ts']));
  });

  test('the contract itself imports nothing of the server\'s runtime', () => {
    for (const contract of serverContract) {
      expect([...reachableFrom(contract)].filter((file) => file !== contract)).toEqual([]);
    }
  });

  test('would notice a construct importing the server\'s runtime (negative control)', () => {
    expect([...reachableFrom('server/server.ts')].filter((file) => !serverContract.includes(file) && file.startsWith('server/')).length).toBeGreaterThan(1);
  });
});
