// The construct library as another cdk8s app installs it: the package is built and packed as `npm publish` would,
// the tarball installed offline into an empty folder with only its peer dependencies, and the README's consumer
// examples compiled and synthesized there. Also: every runtime import of the built library is a declared dependency.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { consumerSpecs, lowestPeerSpecs, offlineInstallFlags } from '../../scripts/package/consumer-install';

const root = path.resolve(__dirname, '..', '..');
const packageJson = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string; version: string; dependencies: Record<string, string>; peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>; files: string[];
};
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** A README example marked `<!-- consumer-example: title -->` just above its ```ts block. */
export interface ConsumerExample { readonly title: string; readonly source: string }

export function consumerExamples(readme: string): ConsumerExample[] {
  return [...readme.matchAll(/<!-- consumer-example: (.+?) -->\n```ts\n([\s\S]*?)\n```/g)].map((match) => ({ title: match[1], source: `${match[2]}\n` }));
}

/** The package names a built JavaScript file requires, excluding relative paths and Node's built-ins. */
export function requiredPackages(javascript: string): string[] {
  const names = [...javascript.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1])
    .filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:'))
    .map((specifier) => specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
  return [...new Set(names)].sort();
}

function javascriptFiles(directory: string): string[] {
  return fs.readdirSync(directory, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.js')).map((file) => path.join(directory, file));
}

function packagesRequiredUnder(directory: string): string[] {
  return [...new Set(javascriptFiles(directory).flatMap((file) => requiredPackages(fs.readFileSync(file, 'utf8'))))].sort();
}

/** The compiler settings consumer apps typically have. */
const consumerCompilerSettings: Readonly<Record<string, object>> = {
  cdk8sInit: { module: 'commonjs' },
  node16: { module: 'node16', moduleResolution: 'node16' },
};

function run(command: string, args: readonly string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

describe('the packed package, as another cdk8s app installs it', () => {
  let scratch: string;
  let staging: string;
  let tarball: string;
  let consumer: string;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'key-server-package-'));
    // What `npm publish` would do: run `prepare` (the build), then pack `files`. Built in a copy, so the clone's
    // own lib/ is never touched by a test.
    staging = path.join(scratch, 'staging');
    fs.mkdirSync(staging);
    for (const file of ['package.json', 'README.md', 'API.md', 'CHANGELOG.md']) {
      if (fs.existsSync(path.join(root, file))) fs.copyFileSync(path.join(root, file), path.join(staging, file));
    }
    execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json'), '--outDir', path.join(staging, 'lib')], { cwd: root, stdio: 'pipe' });
    tarball = path.join(scratch, run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', scratch], staging).trim().split('\n').pop() as string);

    consumer = path.join(scratch, 'consumer');
    fs.mkdirSync(consumer);
    fs.writeFileSync(path.join(consumer, 'package.json'), '{ "name": "key-server-consumer", "private": true }\n');
    run('npm', ['install', ...offlineInstallFlags, tarball, ...lowestPeerSpecs(packageJson.peerDependencies)], consumer);
  }, 180_000);

  afterAll(() => {
    if (scratch !== undefined) fs.rmSync(scratch, { recursive: true, force: true });
  });

  describe('its dependencies', () => {
    it('declares every package the built library requires at run time, and nothing it does not require', () => {
      const required = packagesRequiredUnder(path.join(staging, 'lib'));
      const declared = [...Object.keys(packageJson.dependencies), ...Object.keys(packageJson.peerDependencies)].sort();
      expect(required).toEqual(declared);
    });

    it('keeps the server\'s own runtime to prom-client', () => {
      expect(packagesRequiredUnder(path.join(staging, 'lib', 'server'))).toEqual(['prom-client']);
    });

    it('makes cdk8s, constructs and cdk8s-plus-27 peer dependencies, also installed for the project\'s own build', () => {
      expect(Object.keys(packageJson.peerDependencies).sort()).toEqual(['cdk8s', 'cdk8s-plus-27', 'constructs']);
      for (const name of Object.keys(packageJson.peerDependencies)) {
        expect({ name, dev: packageJson.devDependencies[name] }).toEqual({ name, dev: packageJson.peerDependencies[name] });
        expect(packageJson.dependencies).not.toHaveProperty(name);
      }
    });

    it('installs offline what a consumer asks for, from the cache the project\'s install filled', () => {
      expect(consumerSpecs()).toEqual(expect.arrayContaining(lowestPeerSpecs(packageJson.peerDependencies)));
    });
  });

  describe('the tarball', () => {
    const entries = () => execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').map((entry) => entry.replace(/^package\//, ''));

    it('ships the library, its types, the server and the documentation', () => {
      expect(entries()).toEqual(expect.arrayContaining([
        'package.json', 'README.md', 'lib/constructs/index.js', 'lib/constructs/index.d.ts', 'lib/server/cli.js', 'lib/server/server.d.ts',
      ]));
    });

    it('ships neither the cdk8s app of this repository, the development certificate helper, tests, scripts nor source maps', () => {
      const unwanted = entries().filter((entry) => /^lib\/main\.|dev-cert|^test\/|^scripts\/|^lib\/scripts\/|\.map$|^(server|constructs)\/.*\.ts$/.test(entry));
      expect(unwanted).toEqual([]);
    });
  });

  describe('in a consumer\'s app', () => {
    it('has exactly one copy of constructs and cdk8s, the app\'s own', () => {
      const copies = (name: string) => fs.readdirSync(path.join(consumer, 'node_modules'), { recursive: true, encoding: 'utf8' })
        .filter((entry) => entry === path.join(name, 'package.json') || entry.endsWith(path.join('node_modules', name, 'package.json')));
      expect(copies('constructs')).toEqual([path.join('constructs', 'package.json')]);
      expect(copies('cdk8s')).toEqual([path.join('cdk8s', 'package.json')]);
    });

    it('resolves the library as the main entry and the server as key-server/server, and hides deep imports', () => {
      const resolve = (specifier: string) => spawnSync(process.execPath, ['-e', `console.log(Object.keys(require(${JSON.stringify(specifier)})).length)`], { cwd: consumer, encoding: 'utf8' });
      expect(resolve(packageJson.name).status).toBe(0);
      expect(resolve(`${packageJson.name}/server`).status).toBe(0);
      const deep = resolve(`${packageJson.name}/lib/constructs`);
      expect(deep.status).not.toBe(0);
      expect(deep.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
    });

    const examples = consumerExamples(fs.readFileSync(path.join(root, 'README.md'), 'utf8'));

    it('finds the README\'s consumer examples, one of them monitoring a key server imported with fromAttributes', () => {
      expect(examples.length).toBeGreaterThanOrEqual(3);
      expect(examples.some((example) => example.source.includes('KeyServerApp.fromAttributes('))).toBe(true);
    });

    it.each(examples.map((example, index) => ({ ...example, index })))('compiles and synthesizes the README example "$title" as written', ({ source, index }) => {
      const folder = path.join(consumer, `example-${index}`);
      fs.mkdirSync(folder, { recursive: true });
      fs.writeFileSync(path.join(folder, 'main.ts'), source);
      // Both module settings consumers use: `cdk8s init typescript-app`'s (commonjs, classic node resolution, which
      // reads `types`) and Node16 resolution (which reads the `exports` map's `types` conditions).
      for (const [name, compilerOptions] of Object.entries(consumerCompilerSettings)) {
        fs.writeFileSync(path.join(folder, `tsconfig.${name}.json`), JSON.stringify({
          compilerOptions: { target: 'ES2022', strict: true, skipLibCheck: true, types: [], outDir: `out-${name}`, ...compilerOptions },
          files: ['main.ts'],
        }));
        run(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], folder);
      }
      run(process.execPath, [path.join('out-node16', 'main.js')], folder);
      const objects = fs.readdirSync(path.join(folder, 'dist')).flatMap((file) =>
        parseAllDocuments(fs.readFileSync(path.join(folder, 'dist', file), 'utf8')).map((document) => document.toJSON() as { kind: string } | null))
        .filter((object): object is { kind: string } => object !== null);
      // A KeyServerApp emits its Namespace; an example monitoring a key server imported with fromAttributes has none.
      const kinds = ['Deployment', 'Service', 'NetworkPolicy', ...(source.includes('new KeyServerApp(') ? ['Namespace'] : [])];
      expect(objects.map((object) => object.kind)).toEqual(expect.arrayContaining(kinds));
      console.log(`consumer example ${index} synthesized ${objects.length} objects`);
    });
  });
});
