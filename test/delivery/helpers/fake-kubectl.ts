// A fake kubectl on PATH that records every call and answers from canned values, so the delivery scripts' logic
// runs here without a cluster; plus a runner for `npm run <script>` with a controlled PATH.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findExecutable } from '../../../scripts/common/prerequisites';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** What the fake answers. */
export interface FakeKubectlOptions {
  /** `kubectl config current-context` output; undefined makes it fail as kubectl does when none is set. */
  readonly context?: string;
  /** `kubectl api-versions` lines. */
  readonly apiVersions?: readonly string[];
  /** `kubectl get secret ... -o jsonpath={.data.ca\.crt}` output (base64). */
  readonly caBase64?: string;
  /** A kubectl subcommand (e.g. `rollout`) that fails with exit code 1. */
  readonly failOn?: string;
  /** `kubectl get deployment/... -o jsonpath={.spec.replicas}` output. */
  readonly replicas?: string;
}

/** One recorded kubectl call: its arguments, and what it read from stdin when given `-f -`. */
export interface KubectlCall {
  readonly args: string[];
  readonly stdin?: string;
}

const script = `#!/bin/bash
# Fake kubectl for the delivery tests: records its arguments (tab-separated, one call per line) and stdin for -f -.
log="$FAKE_KUBECTL_DIR/calls.log"
n=$(( $( (/bin/cat "$log" 2>/dev/null || true) | /usr/bin/wc -l ) + 1 ))
( IFS=$'\\t'; printf '%s\\n' "$*" ) >> "$log"
for arg in "$@"; do
  if [ "$arg" = "-" ]; then /bin/cat > "$FAKE_KUBECTL_DIR/stdin.$n"; fi
done
sub="$1"; [ "$1" = "-n" ] && sub="$3"
if [ -n "$FAKE_KUBECTL_FAIL_ON" ] && [ "$sub" = "$FAKE_KUBECTL_FAIL_ON" ]; then
  echo "error: fake failure of $sub" >&2; exit 1
fi
case "$sub" in
  config)
    if [ -n "$FAKE_KUBECTL_CONTEXT" ]; then echo "$FAKE_KUBECTL_CONTEXT"; exit 0; fi
    echo "error: current-context is not set" >&2; exit 1 ;;
  api-versions) printf '%s\\n' $FAKE_KUBECTL_API_VERSIONS ;;
  get) case "$*" in
    *'{.spec.replicas}'*) printf '%s' "$FAKE_KUBECTL_REPLICAS" ;;
    *) printf '%s' "$FAKE_KUBECTL_CA_BASE64" ;;
  esac ;;
  port-forward) exit 0 ;;
  *) echo "fake kubectl: $*" ;;
esac
`;

/** A temporary bin directory holding the fake kubectl and links to node and npm. */
export class FakeKubectl {
  readonly directory: string;
  readonly binDirectory: string;

  constructor() {
    this.directory = fs.mkdtempSync(path.join(os.tmpdir(), 'key-server-fake-kubectl-'));
    this.binDirectory = path.join(this.directory, 'bin');
    fs.mkdirSync(this.binDirectory);
    fs.writeFileSync(path.join(this.binDirectory, 'kubectl'), script, { mode: 0o755 });
  }

  /** Environment for a run: `PATH` starts with the fake; `withoutKubectl` leaves it (and every real kubectl) out. */
  environment(options: FakeKubectlOptions, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      FAKE_KUBECTL_DIR: this.directory,
      FAKE_KUBECTL_CONTEXT: options.context ?? '',
      FAKE_KUBECTL_API_VERSIONS: (options.apiVersions ?? []).join(' '),
      FAKE_KUBECTL_CA_BASE64: options.caBase64 ?? '',
      FAKE_KUBECTL_FAIL_ON: options.failOn ?? '',
      FAKE_KUBECTL_REPLICAS: options.replicas ?? '',
      PATH: `${this.binDirectory}${path.delimiter}${process.env.PATH ?? ''}`,
      ...extra,
    };
  }

  /** The recorded calls, oldest first; clears nothing. */
  calls(): KubectlCall[] {
    const log = path.join(this.directory, 'calls.log');
    if (!fs.existsSync(log)) return [];
    return fs.readFileSync(log, 'utf8').split('\n').filter((line) => line !== '').map((line, index) => {
      const stdinFile = path.join(this.directory, `stdin.${index + 1}`);
      return { args: line.split('\t'), stdin: fs.existsSync(stdinFile) ? fs.readFileSync(stdinFile, 'utf8') : undefined };
    });
  }

  /** Forgets the recorded calls, between runs of one test. */
  reset(): void {
    for (const file of fs.readdirSync(this.directory)) {
      if (file === 'calls.log' || file.startsWith('stdin.')) fs.rmSync(path.join(this.directory, file));
    }
  }

  remove(): void {
    fs.rmSync(this.directory, { recursive: true, force: true });
  }
}

/**
 * A PATH with node, npm and sh (npm runs scripts with it) but no kubectl (nor anything else of /usr/bin), to show what a machine without
 * kubectl sees. Returns the directory to put on PATH; remove it with the FakeKubectl's directory.
 */
export function pathWithOnly(parent: string, tools: readonly string[]): string {
  const directory = fs.mkdtempSync(path.join(parent, 'only-'));
  for (const tool of ['node', 'npm', 'sh', ...tools]) {
    const found = tool === 'node' ? process.execPath : findExecutable(tool);
    if (found === undefined) throw new Error(`${tool} is needed to run npm scripts in tests`);
    fs.symlinkSync(found, path.join(directory, tool));
  }
  return directory;
}

/** How a finished npm script ended. */
export interface ScriptResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `npm run --silent <script> -- <args>` in the repository, killed after `timeoutMs` so a hang fails the test. */
export function runNpmScript(scriptName: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ScriptResult> {
  const npm = findExecutable('npm', env.PATH) ?? 'npm';
  const child = spawn(npm, ['run', '--silent', scriptName, '--', ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm run ${scriptName} did not finish within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
