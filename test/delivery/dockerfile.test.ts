// The Dockerfile matches what the Deployment in dist/ runs: same uid, entrypoint taking the Deployment's args,
// same ports; multi-stage, minimal runtime, no secrets. (No container engine runs here: the image is never built.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseConfig } from '../../server/config';
import { readObjects } from '../../scripts/common/manifests';
import { argsOf, entrypointNodeFlags, parseCopy, parseDockerfile, readDockerfile, type Stage } from '../../scripts/common/dockerfile';
import versions from '../../versions.json';
import { repoRoot } from './helpers/fake-kubectl';

interface Container {
  image: string;
  command?: string[];
  args: string[];
  ports: Array<{ containerPort: number; name: string }>;
  securityContext: { runAsUser: number; runAsGroup: number; readOnlyRootFilesystem: boolean };
}

const packageJson = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string>; engines: { node: string } };
const stages = readDockerfile(path.join(repoRoot, 'Dockerfile'));
const runtime = stages[stages.length - 1];
const deployment = readObjects(path.join(repoRoot, 'dist')).find((object) => object.kind === 'Deployment' && object.metadata.name === 'key-server') as unknown as {
  spec: { template: { spec: { containers: Container[] } } };
};
const container = deployment.spec.template.spec.containers[0];

function stageNamed(name: string | undefined): Stage {
  const stage = stages.find((candidate) => candidate.name === name);
  if (stage === undefined) throw new Error(`no stage named ${name}`);
  return stage;
}

function nodeMajor(image: string): number {
  const match = /(?:node:|nodejs)(\d+)/.exec(image);
  if (match === null) throw new Error(`not a Node image: ${image}`);
  return Number(match[1]);
}

describe('Dockerfile reader', () => {
  test('joins continuation lines, drops comments and splits stages at FROM', () => {
    const parsed = parseDockerfile('# comment\nFROM a:1 AS one\nRUN x \\\n  y\nFROM b:2\nUSER 1:1\n');
    expect(parsed).toEqual([
      { image: 'a:1', name: 'one', instructions: [{ keyword: 'RUN', args: 'x y' }] },
      { image: 'b:2', name: undefined, instructions: [{ keyword: 'USER', args: '1:1' }] },
    ]);
  });
});

describe('Dockerfile', () => {
  test('is multi-stage: a build stage compiles with dev dependencies, the runtime only copies results', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((stage) => argsOf(stage, 'RUN').some((run) => /\btsc\b/.test(run)));
    expect(build).toBeDefined();
    expect(argsOf(build as Stage, 'RUN').some((run) => /^npm ci\b/.test(run) && !run.includes('--omit=dev'))).toBe(true);
    expect(argsOf(runtime, 'RUN')).toEqual([]);
  });

  test('runs on a distroless Node runtime (no shell, no package manager) of the same even-numbered LTS major as the build', () => {
    expect(runtime.image).toMatch(/^gcr\.io\/distroless\/nodejs\d+-debian\d+:nonroot$/);
    const majors = new Set(stages.map((stage) => nodeMajor(stage.image)));
    expect(majors.size).toBe(1);
    const [major] = [...majors];
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(Number(/\d+/.exec(packageJson.engines.node)?.[0]));
  });

  test('copies into the runtime only the compiled server, package.json and production node_modules', () => {
    const copies = argsOf(runtime, 'COPY').map(parseCopy);
    expect(copies.every((copy) => copy.from !== undefined)).toBe(true);
    expect(copies.flatMap((copy) => copy.sources).sort()).toEqual(['/src/lib/server', '/src/node_modules', '/src/package.json']);
    const modules = copies.find((copy) => copy.sources[0].endsWith('/node_modules'));
    expect(argsOf(stageNamed(modules?.from), 'RUN').some((run) => /^npm ci\b.*--omit=dev/.test(run))).toBe(true);
    expect(argsOf(runtime, 'ENV')).toContain('NODE_ENV=production');
  });

  test('runs as the uid and gid the Deployment runs as (65534), never root', () => {
    const users = argsOf(runtime, 'USER');
    expect(users).toEqual([`${container.securityContext.runAsUser}:${container.securityContext.runAsGroup}`]);
    expect(users).toEqual(['65534:65534']);
  });

  test('has the server bin as ENTRYPOINT and no CMD, so the Deployment\'s args are the server\'s flags', () => {
    const [entrypoint] = argsOf(runtime, 'ENTRYPOINT');
    const workdir = argsOf(runtime, 'WORKDIR').pop() as string;
    const nodeFlags = entrypointNodeFlags(stages);
    expect(JSON.parse(entrypoint)).toEqual(['/nodejs/bin/node', ...nodeFlags, path.posix.join(workdir, packageJson.bin['key-server'])]);
    for (const flag of nodeFlags) expect(flag).toMatch(/^--[a-z][a-z0-9-]*(=\w+)?$/);
    expect(argsOf(runtime, 'CMD')).toEqual([]);
    expect(container.command).toBeUndefined();
    expect(parseConfig(container.args, {}).kind).toBe('config');
  });

  test('exposes exactly the Deployment\'s container ports', () => {
    const exposed = argsOf(runtime, 'EXPOSE').flatMap((args) => args.split(/\s+/)).map(Number).sort();
    expect(exposed).toEqual(container.ports.map((port) => port.containerPort).sort());
  });

  test('bakes in no certificates, keys or credentials, and the build context excludes them', () => {
    const allCopies = stages.flatMap((stage) => argsOf(stage, 'COPY').map(parseCopy));
    for (const source of allCopies.flatMap((copy) => copy.sources)) {
      expect(source).not.toMatch(/dev-certs|\.key$|\.pem$|\.crt$|\.env/);
    }
    for (const stage of stages) {
      for (const variable of [...argsOf(stage, 'ENV'), ...argsOf(stage, 'ARG')]) {
        expect(variable).not.toMatch(/secret|token|password|credential|private/i);
      }
    }
    const ignored = fs.readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim());
    expect(ignored).toEqual(expect.arrayContaining(['.dev-certs/', '**/*.key', '**/*.pem', '.git/', 'node_modules/', 'lib/']));
  });

  test('copies from the build context only paths that exist and .dockerignore lets through', () => {
    const ignored = fs.readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim().replace(/\/$/, ''))
      .filter((line) => line !== '' && !line.startsWith('#'));
    const contextSources = stages.flatMap((stage) => argsOf(stage, 'COPY').map(parseCopy)).filter((copy) => copy.from === undefined).flatMap((copy) => copy.sources);
    expect(contextSources.length).toBeGreaterThan(0);
    for (const source of contextSources) {
      expect(fs.existsSync(path.join(repoRoot, source))).toBe(true);
      expect(ignored).not.toContain(source);
    }
  });

  test('the Deployment runs the image from versions.json: its registry and repository, tagged with the package version', () => {
    expect(container.image).toBe(`${versions.images.keyServer.repository}:${packageJson.version}`);
    expect(versions.images.keyServer.tag).toBe(packageJson.version);
    expect(container.image.split('/')[0]).toMatch(/\./);
  });

  test('the build stage copies every JSON file the compiled code imports (tsc needs them: package.json, versions.json)', () => {
    const build = stages.find((stage) => argsOf(stage, 'RUN').some((run) => /\btsc\b/.test(run))) as Stage;
    const copied = argsOf(build, 'COPY').map(parseCopy).filter((copy) => copy.from === undefined).flatMap((copy) => copy.sources);
    const sources = ['main.ts', ...['server', 'constructs'].flatMap((folder) => fs.readdirSync(path.join(repoRoot, folder), { recursive: true }).map((file) => path.join(folder, String(file))))]
      .filter((file) => file.endsWith('.ts'));
    const imported = new Set(sources.flatMap((file) => [...fs.readFileSync(path.join(repoRoot, file), 'utf8').matchAll(/from '([^']+\.json)'/g)]
      .map((match) => path.relative(repoRoot, path.resolve(repoRoot, path.dirname(file), match[1])))));
    expect([...imported].sort()).toEqual(['package.json', 'versions.json']);
    for (const file of imported) expect(copied).toContain(file);
  });
});
