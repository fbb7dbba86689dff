// Prometheus' Kubernetes service discovery against the test cluster without scraping anything: the real promtool
// (`check service-discovery` discovers and relabels, then prints the targets) on a prometheus.yml whose
// kubernetes_sd_configs are pointed at the cluster through a test-only kubeconfig holding a ServiceAccount token.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { requireProgram } from '../../../scripts/toolchain/build-tools';
import { runCommand, type ControlPlane } from './control-plane';

/** One target as promtool reports it: labels after relabelling (empty when the target was dropped). */
export interface DiscoveredTarget {
  readonly discoveredLabels: Record<string, string>;
  readonly labels: Record<string, string>;
}

/** What one job discovered: the targets it keeps, how many it dropped, and what promtool logged. */
export interface DiscoveryResult {
  readonly kept: readonly Record<string, string>[];
  readonly dropped: number;
  readonly log: string;
}

/**
 * A kubeconfig that authenticates as `namespace/serviceAccount` with a short-lived token from the TokenRequest API,
 * so discovery runs with exactly the rights the manifests' RBAC gives Prometheus.
 */
export async function serviceAccountKubeconfig(controlPlane: ControlPlane, namespace: string, serviceAccount: string): Promise<string> {
  const token = await controlPlane.kubectl(['-n', namespace, 'create', 'token', serviceAccount, '--duration=10m']);
  if (token.code !== 0) throw new Error(`kubectl create token ${serviceAccount}: ${token.stderr}`);
  const file = join(controlPlane.directory, `sd-${namespace}-${serviceAccount}.kubeconfig`);
  writeFileSync(file, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'sd',
    clusters: [{ name: 'test', cluster: { server: controlPlane.serverUrl, 'certificate-authority': controlPlane.caFile } }],
    users: [{ name: serviceAccount, user: { token: token.stdout.trim() } }],
    contexts: [{ name: 'sd', context: { cluster: 'test', user: serviceAccount } }],
  }), { mode: 0o600 });
  return file;
}

/** `prometheusYml` as emitted, with `kubeconfig_file` added to every kubernetes_sd_configs block and nothing else changed. */
export function withKubeconfig(prometheusYml: string, kubeconfigFile: string): string {
  const config = parse(prometheusYml) as { scrape_configs?: Array<{ kubernetes_sd_configs?: Array<Record<string, unknown>> }> };
  for (const job of config.scrape_configs ?? []) {
    for (const block of job.kubernetes_sd_configs ?? []) block.kubeconfig_file = kubeconfigFile;
  }
  return stringify(config);
}

/** Runs `promtool check service-discovery` for `job`; discovery runs for `seconds`, then promtool prints what it found. */
export async function discoverTargets(configFile: string, job: string, seconds = 4): Promise<DiscoveryResult> {
  const promtool = await requireProgram('promtool');
  const result = await runCommand(promtool, ['check', 'service-discovery', `--timeout=${seconds}s`, configFile, job], { timeoutMs: (seconds + 30) * 1000 });
  if (result.code !== 0) throw new Error(`promtool check service-discovery ${job}: exit ${result.code}\n${result.stderr}`);
  const targets = JSON.parse(result.stdout) as DiscoveredTarget[];
  const kept = targets.filter((target) => Object.keys(target.labels).length > 0).map((target) => target.labels);
  return { kept, dropped: targets.length - kept.length, log: result.stderr };
}

/** A label matcher in a PromQL selector, e.g. `job="key-server"` or `pod=~"key-server-.+"`. */
export interface LabelMatcher {
  readonly label: string;
  readonly operator: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

/** Every matcher on one of `labels` in `expressions` (PromQL), deduplicated. */
export function labelMatchers(expressions: readonly string[], labels: readonly string[]): LabelMatcher[] {
  const pattern = new RegExp(`(?<![\\w])(${labels.join('|')})\\s*(=~|!~|!=|=)\\s*"((?:[^"\\\\]|\\\\.)*)"`, 'g');
  const found = new Map<string, LabelMatcher>();
  for (const expression of expressions) {
    for (const match of expression.matchAll(pattern)) {
      const matcher = { label: match[1], operator: match[2] as LabelMatcher['operator'], value: match[3].replace(/\\(.)/g, '$1') };
      found.set(JSON.stringify(matcher), matcher);
    }
  }
  return [...found.values()];
}

/** Whether `labels` satisfy `matcher` as Prometheus evaluates it (regexes fully anchored, a missing label is ""). */
export function satisfies(labels: Record<string, string>, matcher: LabelMatcher): boolean {
  const value = labels[matcher.label] ?? '';
  const regex = () => new RegExp(`^(?:${matcher.value})$`);
  switch (matcher.operator) {
    case '=': return value === matcher.value;
    case '!=': return value !== matcher.value;
    case '=~': return regex().test(value);
    case '!~': return !regex().test(value);
  }
}
