// test/constructs/ mirrors constructs/: each module has a test file of the same name at the same place, or is listed
// here with the test that covers it, so a reader finds a module's tests without searching.
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

/** Modules without a test file of their own, each with the test that covers it. */
const coveredElsewhere: Readonly<Record<string, string>> = {
  'constructs/index.ts': 'test/package/api-docs.test.ts (the public entry, as API.md documents it) and test/package/package.test.ts',
  'constructs/key-server/key-server.ts': 'test/constructs/key-server/imported-key-server.test.ts (IKeyServer is an interface: both implementations agree on it)',
  'constructs/monitoring/probe-timing.ts': 'test/constructs/workload.test.ts and the monitoring workloads\' snapshots (one constant)',
  'constructs/monitoring/dashboards/http-overview.ts': 'test/constructs/monitoring/dashboards/key-server-dashboards.test.ts',
  'constructs/monitoring/dashboards/key-generation.ts': 'test/constructs/monitoring/dashboards/key-server-dashboards.test.ts',
};

function files(directory: string, suffix: string): string[] {
  return fs.readdirSync(path.join(root, directory), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(suffix) && !file.includes('helpers') && !file.includes('__snapshots__'))
    .map((file) => path.join(directory, file));
}

describe('the test layout', () => {
  const modules = files('constructs', '.ts');
  const tests = files('test/constructs', '.test.ts');

  test('every construct module has a test file of the same name beside the others of its folder, or names the test that covers it', () => {
    const missing = modules.filter((module) => coveredElsewhere[module] === undefined
      && !fs.existsSync(path.join(root, 'test', module.replace(/\.ts$/, '.test.ts'))));
    expect(missing).toEqual([]);
  });

  test('every test file there tests a module of the same name, or the cross-object and layout properties of the whole library', () => {
    const whole = ['test/constructs/dist-drift.test.ts', 'test/constructs/helpers.test.ts', 'test/constructs/validate-strict.test.ts', 'test/constructs/layout.test.ts',
      'test/constructs/monitoring/prometheus-config-labels.test.ts'];
    const orphans = tests.filter((test) => !whole.includes(test) && !fs.existsSync(path.join(root, test.replace(/^test\//, '').replace(/\.test\.ts$/, '.ts'))));
    expect(orphans).toEqual([]);
  });

  test('the modules said to be covered elsewhere exist, and so do the tests that cover them', () => {
    for (const [module, coveredBy] of Object.entries(coveredElsewhere)) {
      expect(modules).toContain(module);
      expect(fs.existsSync(path.join(root, coveredBy.split(' ')[0]))).toBe(true);
    }
  });
});
