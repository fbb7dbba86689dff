// dist/ is committed for GitOps: it must be exactly what `npm run synth` (cdk8s synth) writes from this source.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KeyServerApp, KeyServerScaling } from '../../constructs';
import { environmentFrom, keyServerProps, standaloneTlsSecretName } from '../../main';
import { invariantViolations } from './helpers/invariants';
import { missingResourceViolations, podSecurityRestrictedViolations, podSpecOf } from './helpers/pod-security';
import { only, synthesize } from './helpers/synth';
import { expectStrictlyValid } from './helpers/validate-strict';

const root = path.resolve(__dirname, '..', '..');
const committed = path.join(root, 'dist');

/** Every file under `dir`, as paths relative to it, sorted. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}

/** Files present in only one directory or different in content, one line each. */
export function differences(expectedDir: string, actualDir: string): string[] {
  const expected = filesUnder(expectedDir);
  const actual = filesUnder(actualDir);
  const lines: string[] = [];
  for (const file of new Set([...expected, ...actual])) {
    if (!actual.includes(file)) lines.push(`${file}: committed but no longer synthesized`);
    else if (!expected.includes(file)) lines.push(`${file}: synthesized but not committed`);
    else if (!fs.readFileSync(path.join(expectedDir, file)).equals(fs.readFileSync(path.join(actualDir, file)))) {
      lines.push(`${file}: differs from a fresh synth`);
    }
  }
  return lines.sort();
}

/** The objects of the manifests directly in `dir`, as `kubectl apply -f <dir>` reads them. */
function objectsIn(dir: string): Array<Record<string, any>> {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJSON()))
    .filter((object) => object !== null);
}

function committedObjects(): Record<string, unknown>[] {
  return filesUnder(committed)
    .filter((file) => file.endsWith('.yaml'))
    .flatMap((file) => parseAllDocuments(fs.readFileSync(path.join(committed, file), 'utf8')).map((d) => d.toJSON()))
    .filter((object) => object !== null);
}

describe('committed dist/', () => {
  let fresh: string;

  beforeAll(() => {
    fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'key-server-dist-'));
    // The same command as `npm run synth`, into a temporary directory; KEY_SERVER_ENV cleared so it is the default.
    const env: NodeJS.ProcessEnv = { ...process.env, KEY_SERVER_ENV: '' };
    execFileSync(path.join(root, 'node_modules', '.bin', 'cdk8s'), ['synth', '--no-check-upgrade', '--output', fresh], { cwd: root, env, stdio: 'pipe' });
  }, 60_000);

  afterAll(() => {
    fs.rmSync(fresh, { recursive: true, force: true });
  });

  test('is identical, file by file, to a fresh `cdk8s synth` (run `npm run synth` and commit dist/ if not)', () => {
    expect(filesUnder(fresh)).toContain('key-server.k8s.yaml');
    expect(filesUnder(fresh)).toContain(path.join('standalone', 'key-server.k8s.yaml'));
    expect(differences(committed, fresh)).toEqual([]);
  });

  test('every object in it validates strictly against the schemas', () => {
    expectStrictlyValid(committedObjects());
  });

  test('its objects line up and every pod meets Pod Security "restricted" with requests and limits', () => {
    // dist/ and dist/standalone/ are alternatives, so each is checked on its own. The standalone TLS Secret is yours
    // to create (npm run dev-cert, or your PKI): it is the one object dist/standalone/ mounts and does not hold.
    for (const [dir, externalSecrets] of [[committed, []], [path.join(committed, 'standalone'), [standaloneTlsSecretName]]] as const) {
      const objects = objectsIn(dir);
      expect(invariantViolations(objects, { externalSecrets })).toEqual([]);
      for (const pod of objects.map(podSpecOf).filter((spec) => spec !== undefined)) {
        expect(podSecurityRestrictedViolations(pod)).toEqual([]);
        expect(missingResourceViolations(pod)).toEqual([]);
      }
    }
  });
});

describe('what each output needs in the cluster', () => {
  /** API groups every conformant cluster serves (core, apps, autoscaling, policy, networking, RBAC). */
  const builtIn = new Set(['', 'apps', 'autoscaling', 'policy', 'networking.k8s.io', 'rbac.authorization.k8s.io']);
  const groupsOf = (dir: string) => [...new Set(objectsIn(dir).map((object) => (String(object.apiVersion).includes('/') ? String(object.apiVersion).split('/')[0] : '')))].sort();

  test('dist/standalone/ applies on a cluster with nothing installed: only built-in kinds, no cert-manager or operator resource', () => {
    expect(groupsOf(path.join(committed, 'standalone')).filter((group) => !builtIn.has(group))).toEqual([]);
  });

  test('dist/ needs cert-manager and prometheus-operator, as the README says, and nothing else', () => {
    expect(groupsOf(committed).filter((group) => !builtIn.has(group))).toEqual(['cert-manager.io', 'monitoring.coreos.com']);
  });
});

describe('file comparison', () => {
  test('names every file that is missing, extra or changed', () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'key-server-diff-'));
    try {
      const [a, b] = ['a', 'b'].map((d) => path.join(base, d));
      fs.mkdirSync(path.join(a, 'sub'), { recursive: true });
      fs.mkdirSync(path.join(b, 'sub'), { recursive: true });
      fs.writeFileSync(path.join(a, 'same.yaml'), 'x');
      fs.writeFileSync(path.join(b, 'same.yaml'), 'x');
      fs.writeFileSync(path.join(a, 'sub', 'changed.yaml'), 'x');
      fs.writeFileSync(path.join(b, 'sub', 'changed.yaml'), 'y');
      fs.writeFileSync(path.join(a, 'gone.yaml'), 'x');
      fs.writeFileSync(path.join(b, 'new.yaml'), 'x');
      expect(differences(a, b)).toEqual([
        'gone.yaml: committed but no longer synthesized',
        'new.yaml: synthesized but not committed',
        `${path.join('sub', 'changed.yaml')}: differs from a fresh synth`,
      ]);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});

describe('environments', () => {
  test('production is the default and keeps the construct defaults', () => {
    expect(environmentFrom(undefined)).toBe('production');
    expect(environmentFrom('')).toBe('production');
    expect(keyServerProps('production')).toEqual({});
  });

  test('development runs one pod without autoscaler, so no disruption budget is emitted', () => {
    expect(keyServerProps(environmentFrom('development'))).toEqual(expect.objectContaining({ scaling: KeyServerScaling.fixedReplicas(1) }));
    const objects = synthesize((scope) => { new KeyServerApp(scope, 'keys', keyServerProps('development')); });
    expect(objects.filter((object) => ['HorizontalPodAutoscaler', 'PodDisruptionBudget'].includes(object.kind))).toEqual([]);
    expect(only(objects, 'Deployment').spec.replicas).toBe(1);
  });

  test('an unknown environment is refused by name', () => {
    expect(() => environmentFrom('staging')).toThrow("KEY_SERVER_ENV must be one of production, development; got 'staging'");
  });
});
