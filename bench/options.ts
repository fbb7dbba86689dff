// `npm run bench -- [flags]` → the benchmark's settings, or one clear error.
import { entrypointNodeFlags, type Stage } from '../scripts/common/dockerfile';
import type { Generator } from './processes';

/** How long and how thoroughly the benchmark runs. */
export interface BenchOptions {
  /** Interleaved rounds per scenario; the report shows medians over them. @default 5 (1 with --quick) */
  readonly rounds: number;
  /** Seconds of load per server per scenario per round. @default 2 (1 with --quick) */
  readonly durationSeconds: number;
  /** Seconds of a separate leak soak (key server alone, /key/32 at 50 connections); 0 skips it. @default 0 */
  readonly soakSeconds: number;
  /** Whether to time `cdk8s synth`. @default true */
  readonly synth: boolean;
  /** How many /metrics renders to time. @default 200 (20 with --quick) */
  readonly renders: number;
  /** The load generator. @default 'autocannon' (wrk must be installed for 'wrk') */
  readonly generator: Generator;
  /**
   * Flags for node itself, given to both servers alike; `--node-flags ''` runs with none.
   * @default - the flags of the Dockerfile's ENTRYPOINT, so the benchmark measures the server as the image runs it
   */
  readonly nodeFlags?: readonly string[];
  /** Scenario ids to run (targets need all of them). @default every scenario */
  readonly only?: readonly string[];
}

export const USAGE = `Usage: npm run bench -- [flags]   (default: 5 rounds of 2 s per scenario, about 4 minutes)
  --quick             smoke test: 1 round of 1 s per scenario
  --rounds N          interleaved rounds per scenario, 1..20 (default 5)
  --duration SECONDS  load per server per scenario per round, 1..60 (default 2)
  --soak SECONDS      also run the key server alone for this long, sampling RSS every 5 s, 10..600 (default off)
  --no-synth          do not time cdk8s synth
  --only ID,ID        run only these scenarios (key32-c1, key32-c50, key32-c200, key1024-c50, mixed-c50,
                      h2-key32-c10-m10, h2-key32-c1-m32, h2-key1024-c10-m10); no targets
  (HTTP/2 scenarios use h2load from Debian's nghttp2-client; KEY_SERVER_CLI=path runs another build of the server,
  KEY_SERVER_ARGS replaces the extra server flags, by default "--max-connections 1000" for the 200-connection scenario)
  --node-flags FLAGS  node flags for both servers, space-separated (default: the Dockerfile ENTRYPOINT's; '' for none)
  --generator NAME    HTTP/1.1 load: autocannon (default, from npm) or wrk (if installed: a cross-check that needs less CPU)
`;

function integerFlag(name: string, text: string | undefined, min: number, max: number): number {
  const value = text !== undefined && /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Parses the flags; throws an Error naming the flag on a bad one. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const quick = argv.includes('--quick');
  // Many short rounds rather than few long ones: bursts of other work on the machine then hit a few pairs, and
  // the median of per-round ratios leaves them out.
  let rounds = quick ? 1 : 5;
  let durationSeconds = quick ? 1 : 2;
  let soakSeconds = 0;
  let synth = true;
  let generator: Generator = 'autocannon';
  let only: string[] | undefined;
  let nodeFlags: string[] | undefined;
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    switch (flag) {
      case '--quick':
        break;
      case '--no-synth':
        synth = false;
        break;
      case '--rounds':
        rounds = integerFlag('rounds', argv[++index], 1, 20);
        break;
      case '--duration':
        durationSeconds = integerFlag('duration', argv[++index], 1, 60);
        break;
      case '--soak':
        soakSeconds = integerFlag('soak', argv[++index], 10, 600);
        break;
      case '--node-flags':
        if (argv[index + 1] === undefined) {
          throw new Error('--node-flags needs a value: node flags like "--max-semi-space-size=4", or \'\' for none');
        }
        nodeFlags = argv[++index].split(' ').filter((flag) => flag !== '');
        if (!nodeFlags.every((flag) => /^--[a-z][a-z0-9-]*(=[\w.]+)?$/.test(flag))) {
          throw new Error(`--node-flags must be node flags like "--max-semi-space-size=4", got ${JSON.stringify(argv[index])}`);
        }
        break;
      case '--only':
        only = (argv[++index] ?? '').split(',').filter((id) => id !== '');
        if (only.length === 0) {
          throw new Error('--only needs a comma-separated list of scenario ids');
        }
        break;
      case '--generator': {
        const name = argv[++index];
        if (name !== 'autocannon' && name !== 'wrk') {
          throw new Error(`--generator must be autocannon or wrk, got ${JSON.stringify(name)}`);
        }
        generator = name;
        break;
      }
      default:
        throw new Error(`unknown flag ${JSON.stringify(flag)}\n${USAGE}`);
    }
  }
  return { rounds, durationSeconds, soakSeconds, synth, renders: quick ? 20 : 200, generator, nodeFlags, only };
}

/** The node flags both servers run with: the ones asked for, else those of the image's ENTRYPOINT. */
export function serverNodeFlags(options: BenchOptions, dockerfile: readonly Stage[]): readonly string[] {
  return options.nodeFlags ?? entrypointNodeFlags(dockerfile);
}
