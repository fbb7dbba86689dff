// `npm run synth:helm`: a Helm chart of the same objects as dist/, made by `cdk8s synth --format helm`,
// versioned like the package, for teams that install with Helm.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { logger, parseOptions, runScript, UsageError } from './common/cli';
import { helmModeFrom } from './helm-app';

const root = path.resolve(__dirname, '..');

const usage = `usage: npm run synth:helm [-- [--out helm/key-server] [--mode operator|standalone]]
  Writes a Helm chart (Chart.yaml, templates/ with one object per file) whose version and appVersion are
  package.json's version. KEY_SERVER_ENV picks the environment as for \`npm run synth\`.
`;

/** Chart.yaml for `name` at `version`: the chart and the image it deploys move together. */
export function chartMetadata(name: string, version: string, mode: string): Record<string, string> {
  return {
    apiVersion: 'v2',
    name,
    version,
    appVersion: version,
    description: `The key server (${mode} mode), synthesized by cdk8s from constructs/ and main.ts; regenerate, never edit`,
    type: 'application',
  };
}

/**
 * Escapes Helm's template delimiters so `{{ $labels.pod }}` in alert annotations or Grafana legends reaches the
 * cluster verbatim: Helm renders `{{ "{{" }}` to `{{` and leaves the rest as text.
 */
export function escapeHelmDelimiters(text: string): string {
  return text.replace(/\{\{/g, '{{ "{{" }}');
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): void {
  const result = spawnSync(command, args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`${path.basename(command)} ${args.join(' ')} failed with exit code ${result.status ?? result.signal}`);
}

function main(): void {
  const options = parseOptions(process.argv.slice(2), {
    out: { type: 'string', default: path.join('helm', 'key-server') },
    mode: { type: 'string', default: 'operator' },
  });
  if (options.help) {
    process.stdout.write(usage);
    return;
  }
  let mode: string;
  try {
    mode = helmModeFrom(options.mode as string);
  } catch {
    throw new UsageError(`--mode must be operator or standalone, got '${options.mode as string}'`);
  }
  const log = logger('synth:helm');
  const { version, name } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string; name: string };
  const chartDir = path.resolve(options.out as string);

  // cdk8s adds every CRD listed under `imports:` in cdk8s.yaml to the chart's crds/, downloading them. The chart must
  // not own cert-manager's or prometheus-operator's CRDs (their own installs do), so synth runs from a scratch
  // folder whose cdk8s.yaml names only the app.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'key-server-helm-'));
  try {
    const tsNode = path.join(root, 'node_modules', 'ts-node', 'dist', 'bin.js');
    const app = [process.execPath, tsNode, '--transpile-only', '--project', path.join(root, 'tsconfig.json'), path.join(root, 'scripts', 'helm-app.ts')];
    fs.writeFileSync(path.join(scratch, 'cdk8s.yaml'), stringify({ language: 'typescript', app: app.map((part) => JSON.stringify(part)).join(' ') }));
    const cdk8s = path.join(root, 'node_modules', 'cdk8s-cli', 'bin', 'cdk8s');
    run(process.execPath, [cdk8s, 'synth', '--no-check-upgrade', '--format', 'helm', '--chart-version', version, '--output', chartDir],
      scratch, { ...process.env, KEY_SERVER_HELM_MODE: mode });
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }

  fs.writeFileSync(path.join(chartDir, 'Chart.yaml'), stringify(chartMetadata(name, version, mode)));
  const templates = path.join(chartDir, 'templates');
  for (const file of fs.readdirSync(templates)) {
    const templatePath = path.join(templates, file);
    fs.writeFileSync(templatePath, escapeHelmDelimiters(fs.readFileSync(templatePath, 'utf8')));
  }
  const shown = path.relative(process.cwd(), chartDir).startsWith('..') ? chartDir : path.relative(process.cwd(), chartDir);
  log(`wrote chart ${name} ${version} (${mode}) to ${shown}; install it with \`helm install ${name} ${shown}\``);
}

if (require.main === module) {
  runScript('synth:helm', usage, main);
}
