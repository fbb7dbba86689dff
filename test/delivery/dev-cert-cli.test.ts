// `node lib/server/dev-cert.js` (used by `npm start`): flags are not folder names.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './helpers/fake-kubectl';

function runDevCert(args: readonly string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(repoRoot, 'server', 'dev-cert.ts'), ...args], {
    cwd, encoding: 'utf8', env: { ...process.env, TS_NODE_PROJECT: path.join(repoRoot, 'tsconfig.json'), NODE_PATH: path.join(repoRoot, 'node_modules') },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('dev-cert.js', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'key-server-dev-cert-'));
  });
  afterEach(() => fs.rmSync(cwd, { recursive: true, force: true }));

  test('--help prints the usage and writes no certificate (it used to create a folder named --help)', () => {
    const result = runDevCert(['--help'], cwd);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('usage: node lib/server/dev-cert.js [directory]');
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  test('an unknown flag is refused with exit 2 and writes nothing', () => {
    const result = runDevCert(['--force'], cwd);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown option --force');
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  test('a directory argument still gets tls.crt and tls.key', () => {
    const result = runDevCert(['certs'], cwd);
    expect(result.status).toBe(0);
    expect(fs.readdirSync(path.join(cwd, 'certs')).sort()).toEqual(['tls.crt', 'tls.key']);
  });
});
