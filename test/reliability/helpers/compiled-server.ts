// The key server as production runs it: server/ compiled to JavaScript in a temp directory, started with plain node.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { waitForExit, waitForLogLine, type CliResult } from '../../server/helpers/cli';

const REPO_ROOT = join(__dirname, '..', '..', '..');

/** Where {@link compileServer} takes the runtime dependencies from. @default the clone's node_modules */
export interface CompileOptions {
  readonly nodeModules?: string;
}

/**
 * Transpiles every server/*.ts into `directory`/server and copies in the server's runtime dependencies, so
 * `node <dir>/server/cli.js` runs from `directory` alone. A copy, not a link: the unprivileged run (uid 65534) must
 * not need to enter the clone, which may sit under a folder only its owner can open (a clone under /root or in a
 * `mktemp -d` folder). Transpiling (not `npm run build`) takes well under a second and never touches the shared
 * lib/; the type check is `npm test`'s first step anyway. Returns the path of cli.js.
 */
export function compileServer(directory: string, options: CompileOptions = {}): string {
  const { config } = ts.readConfigFile(join(REPO_ROOT, 'tsconfig.json'), ts.sys.readFile);
  const compilerOptions = ts.convertCompilerOptionsFromJson(config.compilerOptions, REPO_ROOT).options;
  const serverDirectory = join(directory, 'server');
  mkdirSync(serverDirectory, { recursive: true });
  const imported = new Set<string>();
  for (const file of readdirSync(join(REPO_ROOT, 'server')).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(join(REPO_ROOT, 'server', file), 'utf8');
    for (const match of source.matchAll(/from '([^.'][^']*)'/g)) if (!match[1].startsWith('node:')) imported.add(match[1]);
    const output = ts.transpileModule(source, { compilerOptions: { ...compilerOptions, sourceMap: false, declaration: false }, fileName: file });
    writeFileSync(join(serverDirectory, file.replace(/\.ts$/, '.js')), output.outputText);
  }
  const nodeModules = options.nodeModules ?? join(REPO_ROOT, 'node_modules');
  for (const name of dependencyClosure([...imported], nodeModules)) {
    cpSync(join(nodeModules, name), join(directory, 'node_modules', name), { recursive: true, dereference: true });
  }
  return join(serverDirectory, 'cli.js');
}

/** `packages` and everything they depend on at run time, as installed (hoisted) in `nodeModules`. */
export function dependencyClosure(packages: readonly string[], nodeModules: string): string[] {
  const found = new Set<string>();
  const pending = [...packages];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (found.has(name)) continue;
    found.add(name);
    const manifest = JSON.parse(readFileSync(join(nodeModules, name, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    pending.push(...Object.keys(manifest.dependencies ?? {}));
  }
  return [...found].sort();
}

/** A started server process with its output so far. */
export interface ServerProcess {
  readonly child: ChildProcess;
  /** Base URL of the main listener, from the `listening` log line, with 127.0.0.1 as host. */
  readonly url: string;
  readonly metricsUrl?: string;
  /** Everything written so far (stdout and stderr are collected from the start). */
  readonly output: { stdout: string; stderr: string };
  /** Resolves when the process has exited. */
  readonly exited: Promise<CliResult>;
}

/** How to start the process. */
export interface StartOptions {
  readonly spawnOptions?: SpawnOptions;
  /** A command that runs node, e.g. `['strace', '-f', '-o', file]`. @default none */
  readonly wrapper?: readonly string[];
  /** Kill the process if it has not exited this long after start, so a hang fails the test. @default 120000 */
  readonly exitTimeoutMs?: number;
  /** Flags for node itself, e.g. the Dockerfile ENTRYPOINT's (`entrypointNodeFlags`). @default none */
  readonly nodeFlags?: readonly string[];
}

/** Starts `node cli.js args` on 127.0.0.1 with free ports, and resolves once it logs `listening`. */
export async function startServerProcess(cliPath: string, args: readonly string[], options: StartOptions = {}): Promise<ServerProcess> {
  const command = [...(options.wrapper ?? []), process.execPath, ...(options.nodeFlags ?? []), cliPath, '--host', '127.0.0.1', '--srv-port', '0', ...args];
  const child = spawn(command[0], command.slice(1), {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options.spawnOptions,
  });
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => (output.stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output.stderr += chunk.toString('utf8')));
  const exited = waitForExit(child, options.exitTimeoutMs ?? 120_000);
  exited.catch(() => undefined); // observed by the caller when it matters
  let listening: Record<string, unknown>;
  try {
    listening = await waitForLogLine(child, 'listening');
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\nstderr: ${output.stderr}`);
  }
  const local = (url: unknown) => (typeof url === 'string' ? url.replace('localhost', '127.0.0.1') : undefined);
  return { child, url: local(listening.url) as string, metricsUrl: local(listening.metricsUrl), output, exited };
}
