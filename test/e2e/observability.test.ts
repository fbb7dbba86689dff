// End to end: a real Prometheus scrapes the real key server over TLS as dist/ configures both; no panel is blank, alerts fire on faults.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { GrafanaDashboard } from '../../constructs';
import type { RuleGroup } from '../../constructs/monitoring/rules/rule-types';
import { metricCatalogue, type MetricDefinition } from '../../server/metric-catalogue';
import { metricNamesIn } from '../rules/promql-names';
import { createCaSignedCertificate, type CaSignedCertificate } from './certificates';
import {
  dashboardsFrom, kubernetesTargetLabels, localServerArgs, resolveScrapeTarget, ruleGroupsFrom, scrapeConfig,
  synthesizeOperatorManifests, withTestTiming, type ScrapeTarget,
} from './manifests';
import { blankQueries, describeQuery, panelQueries, type PanelQuery } from './panels';
import { startPrometheus, type PromAlert, type RunningPrometheus } from './prometheus';
import { freePort, startKeyServerProcess, waitFor, type KeyServerProcess } from './processes';
import { fetchText } from '../server/helpers/http';
import { countStatuses, startTraffic, type TrafficLoop } from './traffic';

/** Scrape and rule evaluation interval of the test's Prometheus (the ServiceMonitor says 15 s; seconds keep the run short). */
const scrapeIntervalSeconds = 1;
/** `for` of every alert in the test's copy of the rules, so alerts fire within seconds instead of minutes. */
const testAlertFor = '2s';
/**
 * A scrape returning more samples than this means a label grew unbounded: /metrics holds about 200 samples here
 * (prom-client's defaults, and 17 per request histogram series), and every label value set is bounded.
 */
const maxSamplesPerScrape = 500;
/** The pod name Kubernetes would give (Deployment, ReplicaSet hash, pod hash), matched by the rules' pod selectors. */
const podName = 'key-server-7c9f8d6b5d-x2k4q';
/** Faults for the alert part: half the key requests fail; the other half take longer than the 500 ms latency threshold. */
const faultArgs = ['--fault-error-ratio', '0.5', '--fault-latency', '0.8'];

/**
 * Expressions that read only cAdvisor (`container_*`) or kube-state-metrics (`kube_*`) series, which exist only in
 * a cluster, by name and why. Nothing else is exempt; a test below checks this list against the expressions. (The
 * CPU and memory alerts read the server's own process metrics, so they are checked here.)
 */
const needsKubernetes = {
  panels: {} as Record<string, string>,
  recordingRules: {} as Record<string, string>,
  alerts: {
    KeyServerNoPodsAvailable: 'kube_deployment_* (kube-state-metrics)',
    KeyServerPodsNotReady: 'kube_pod_status_ready and kube_pod_status_phase (kube-state-metrics)',
    KeyServerReplicasMismatch: 'kube_deployment_* (kube-state-metrics)',
  } as Record<string, string>,
};

function readsKubernetesSeries(expr: string): boolean {
  return metricNamesIn(expr).some((name) => name.startsWith('kube_') || name.startsWith('container_'));
}

/**
 * Alerts on metrics the server exports only with a feature dist/ leaves off (access control, rate limiting), by name
 * and why: their series do not exist here, by design. A test below checks this list against the catalogue.
 */
const needsFeatureOff = {
  KeyServerNoAccessTokens: 'auth_tokens_loaded (only with --auth-token-file)',
} as Record<string, string>;

/** The metrics the catalogue exports only with a feature on. */
const featureMetrics = new Set(Object.values(metricCatalogue as Record<string, MetricDefinition>)
  .filter((definition) => definition.exportedWhen === 'accessControl' || definition.exportedWhen === 'rateLimit')
  .map((definition) => definition.name));

describe('observability end to end: the pinned Prometheus (3.13) scraping the key server as dist/ deploys them', () => {
  const { objects } = synthesizeOperatorManifests();
  const target: ScrapeTarget = resolveScrapeTarget(objects);
  const dashboards: GrafanaDashboard[] = dashboardsFrom(objects);
  const ruleGroups: RuleGroup[] = ruleGroupsFrom(objects);
  const recordingRules = ruleGroups.flatMap((group) => group.rules).flatMap((rule) => ('record' in rule ? [rule] : []));
  const alertingRules = ruleGroups.flatMap((group) => group.rules).flatMap((rule) => ('alert' in rule ? [rule] : []));
  const selector = `{job="${target.service}",namespace="${target.namespace}"}`;

  let workDirectory: string;
  let certificate: CaSignedCertificate;
  let serverArgs: string[];
  let servingPort: number;
  let metricsPort: number;
  let server: KeyServerProcess | undefined;
  let prometheus: RunningPrometheus | undefined;
  let traffic: TrafficLoop | undefined;

  /** Set once Prometheus has scraped the target; later tests fail at once without it instead of each timing out. */
  let scraped = false;

  /** Runs a test body; on failure appends the tail of Prometheus's and the key server's logs to the message. */
  const withLogs = (body: () => Promise<void>, options: { needsScrape: boolean } = { needsScrape: true }) => async () => {
    try {
      if (options.needsScrape && !scraped) {
        throw new Error(`${target.description} was never scraped successfully; see the first failure`);
      }
      await body();
    } catch (error) {
      if (error instanceof Error) {
        error.message += `\n--- prometheus log (tail) ---\n${prometheus?.logTail() ?? '(not started)'}`
          + `\n--- key server log (tail) ---\n${server?.log().slice(-3000) ?? '(not started)'}`;
      }
      throw error;
    }
  };

  const startServer = async (extraArgs: readonly string[] = []) => {
    server = await startKeyServerProcess([...serverArgs, ...extraArgs]);
  };
  const startClients = (concurrency: number, pauseMs: number) => {
    traffic = startTraffic(
      { baseUrl: `https://127.0.0.1:${servingPort}`, caPem: certificate.caPem, serverName: target.tls.serverName ?? 'localhost' },
      { concurrency, pauseMs, maxDurationMs: 90_000 },
    );
  };
  const stopClients = async () => {
    const counts = await traffic?.stop();
    traffic = undefined;
    return counts ?? new Map();
  };
  const activeAlerts = async (): Promise<PromAlert[]> => (await prometheus!.alerts());
  const describeAlerts = (alerts: readonly PromAlert[]) =>
    alerts.map((alert) => `${alert.labels.alertname}=${alert.state}`).join(', ') || 'none';

  beforeAll(async () => {
    workDirectory = mkdtempSync(join(tmpdir(), 'key-server-e2e-'));
    certificate = createCaSignedCertificate({ directory: workDirectory, dnsNames: target.certificateDnsNames });
    servingPort = await freePort();
    metricsPort = await freePort();
    serverArgs = localServerArgs(target, {
      host: '127.0.0.1',
      ports: new Map([[target.servingContainerPort, servingPort], [target.metricsContainerPort, metricsPort]]),
      certFile: certificate.certFile,
      keyFile: certificate.keyFile,
    });
    await startServer();
    const interval = `${scrapeIntervalSeconds}s`;
    const prometheusDirectory = join(workDirectory, 'prometheus');
    mkdirSync(prometheusDirectory);
    prometheus = await startPrometheus({
      directory: prometheusDirectory,
      config: stringify({
        global: { scrape_interval: interval, evaluation_interval: interval },
        rule_files: ['rules.yml'],
        scrape_configs: [scrapeConfig(target, {
          address: `127.0.0.1:${metricsPort}`,
          labels: kubernetesTargetLabels(target, podName),
          interval,
          caFile: certificate.caFile,
        })],
      }),
      files: { 'rules.yml': stringify({ groups: withTestTiming(ruleGroups, testAlertFor) }) },
    });
  }, 60_000);

  afterAll(async () => {
    await stopClients().catch(() => undefined);
    await server?.stop(0);
    await prometheus?.stop();
    if (workDirectory) rmSync(workDirectory, { recursive: true, force: true });
  });

  it('runs the server with the Deployment\'s container args, changing only host, ports and certificate files', () => {
    const changed = serverArgs.flatMap((arg, index) => (arg === target.containerArgs[index] ? [] : [target.containerArgs[index - 1]]));
    expect(serverArgs).toHaveLength(target.containerArgs.length);
    expect(changed.sort()).toEqual(['--host', '--metrics-port', '--srv-port', '--tls-cert', '--tls-key']);
  });

  it('answers every probe of the Deployment with 200 on the port the probe names, as the kubelet asks it', withLogs(async () => {
    const deployment = objects.find((object) => object.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: Array<Record<string, { httpGet?: { path: string; port: string | number; scheme?: string } }>> } } };
    };
    const container = deployment.spec.template.spec.containers[0];
    const localPort = new Map([[target.servingContainerPort, servingPort], [target.metricsContainerPort, metricsPort]]);
    const answers: Record<string, string> = {};
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      const httpGet = container[probe].httpGet!;
      const port = localPort.get(typeof httpGet.port === 'number' ? httpGet.port : target.containerPorts[httpGet.port]);
      // The kubelet does not verify the serving certificate of an HTTPS probe (fetchText without a CA does not either).
      const response = await fetchText(`${(httpGet.scheme ?? 'HTTP').toLowerCase()}://127.0.0.1:${port}${httpGet.path}`, { timeoutMs: 5000 })
        .then((answer) => `${answer.status}`, (error: Error) => error.message);
      answers[`${probe} ${httpGet.path} on ${httpGet.port}`] = response;
    }
    expect(answers).toEqual({
      'startupProbe /health on metrics': '200', 'readinessProbe /ready on https': '200', 'livenessProbe /health on metrics': '200',
    });
  }, { needsScrape: false }));

  it('scrapes the metrics port over verified TLS with the labels Kubernetes would give, within a sample bound', withLogs(async () => {
    await waitFor(`${target.description} to be up`, 20_000, async () => {
      const active = (await prometheus!.targets()).find((candidate) => candidate.scrapePool === target.jobName);
      if (active === undefined) return 'no such target in /api/v1/targets';
      return active.health === 'up' || `health ${active.health}, last error: ${active.lastError || 'none'}`;
    });
    const [active] = (await prometheus!.targets()).filter((candidate) => candidate.scrapePool === target.jobName);
    expect(active.scrapeUrl).toMatch(new RegExp(`^https://127\\.0\\.0\\.1:\\d+${target.metricsPath}$`));
    expect(active.labels).toEqual(expect.objectContaining({ ...kubernetesTargetLabels(target, podName), instance: expect.stringMatching(/^127\.0\.0\.1:\d+$/) }));

    const up = await prometheus!.query(`up${selector} == 1`);
    expect(up.map((sample) => sample.metric.instance)).toEqual([active.labels.instance]);
    const samples = await prometheus!.query(`scrape_samples_scraped${selector}`);
    expect(samples).toHaveLength(1);
    const scrapedSamples = Number(samples[0].value);
    expect(scrapedSamples).toBeGreaterThan(50);
    expect(scrapedSamples).toBeLessThan(maxSamplesPerScrape);
    scraped = true;
  }, { needsScrape: false }));

  it('stays silent under healthy traffic: no alert pending or firing', withLogs(async () => {
    startClients(2, 40);
    // KeyServerDown is pending until the first scrape (absent(up)); it must clear and nothing else may start.
    await waitFor('every alert to clear under healthy traffic', 20_000, async () => {
      const alerts = await activeAlerts();
      return alerts.length === 0 || describeAlerts(alerts);
    });
    for (let check = 0; check < 6; check++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(describeAlerts(await activeAlerts())).toBe('none');
    }
  }), 40_000);

  it('exempts exactly the expressions that read only Kubernetes series, listed by name', () => {
    const queries = panelQueries(dashboards, { scrapeIntervalSeconds });
    expect(Object.keys(needsKubernetes.panels).sort()).toEqual(
      [...new Set(queries.filter((query) => readsKubernetesSeries(query.expr)).map((query) => query.panel))].sort());
    expect(Object.keys(needsKubernetes.recordingRules).sort()).toEqual(
      recordingRules.filter((rule) => readsKubernetesSeries(rule.expr)).map((rule) => rule.record).sort());
    expect(Object.keys(needsKubernetes.alerts).sort()).toEqual(
      alertingRules.filter((rule) => readsKubernetesSeries(rule.expr)).map((rule) => rule.alert).sort());
    expect(Object.keys(needsFeatureOff).sort()).toEqual(
      alertingRules.filter((rule) => metricNamesIn(rule.expr).some((name) => featureMetrics.has(name))).map((rule) => rule.alert).sort());
  });

  it('draws every dashboard panel: each query returns a series with a value', withLogs(async () => {
    const queries = panelQueries(dashboards, { scrapeIntervalSeconds }).filter((query) => !(query.panel in needsKubernetes.panels));
    expect(queries.length).toBeGreaterThan(15);
    let blank: Awaited<ReturnType<typeof blankQueries>> = [];
    // Rates need two scrapes inside $__rate_interval; give the first ones a few seconds, then insist.
    await waitFor('every panel query to return data', 20_000, async () => {
      blank = await blankQueries(queries, (expr) => prometheus!.query(expr));
      return blank.length === 0 || `${blank.length} blank`;
    }).catch(() => undefined);
    expect(blank.map(({ query, reason }) => `blank panel: ${describeQuery(query)} (${reason})`)).toEqual([]);
  }), 40_000);

  it('names the panel when a dashboard expression reads a misspelt metric', withLogs(async () => {
    const [good] = panelQueries(dashboards, { scrapeIntervalSeconds }).filter((query) => query.panel === 'Served requests');
    const broken: PanelQuery = { ...good, expr: good.expr.replace('http_requests_total', 'http_request_total') };
    expect(broken.expr).not.toBe(good.expr);
    expect(await blankQueries([good], (expr) => prometheus!.query(expr))).toEqual([]);
    const blank = await blankQueries([broken], (expr) => prometheus!.query(expr));
    expect(blank.map(({ query, reason }) => `${describeQuery(query)} (${reason})`)).toEqual([
      `dashboard "Key Server HTTP Overview", panel "Served requests", query A: ${broken.expr} (no series)`,
    ]);
  }));

  it('evaluates every recording rule to a series with a value', withLogs(async () => {
    const missing = async () => {
      const result: string[] = [];
      for (const rule of recordingRules.filter((candidate) => !(candidate.record in needsKubernetes.recordingRules))) {
        const samples = await prometheus!.query(`${rule.record}${selector}`);
        if (!samples.some((sample) => Number.isFinite(Number(sample.value)))) {
          result.push(`${rule.record}: ${samples.map((sample) => sample.value).join(', ') || 'no series'}`);
        }
      }
      return result;
    };
    let result: string[] = [];
    await waitFor('every recording rule to have a value', 15_000, async () => {
      result = await missing();
      return result.length === 0 || result.join('; ');
    }).catch(() => undefined);
    expect(result).toEqual([]);
  }), 30_000);

  it('reads only existing series in every alert that needs neither Kubernetes nor a feature dist/ leaves off', withLogs(async () => {
    const absent: string[] = [];
    for (const rule of alertingRules.filter((candidate) => !(candidate.alert in needsKubernetes.alerts) && !(candidate.alert in needsFeatureOff))) {
      for (const name of new Set(metricNamesIn(rule.expr))) {
        if ((await prometheus!.query(`count(${name}${selector})`)).length === 0) absent.push(`${rule.alert} reads ${name}, which has no series`);
      }
    }
    expect(absent).toEqual([]);
  }));

  it('fires KeyServerHighErrorRate and KeyServerHighLatency, after pending, when faults are injected', withLogs(async () => {
    const healthy = await stopClients();
    expect(countStatuses(healthy, (status) => status === 500)).toBe(0);
    await server!.stop();
    await startServer(faultArgs);
    startClients(16, 0);
    const wanted = ['KeyServerHighErrorRate', 'KeyServerHighLatency'];
    await waitFor(`${wanted.join(' and ')} to fire`, 45_000, async () => {
      const alerts = await activeAlerts();
      const firing = new Set(alerts.filter((alert) => alert.state === 'firing').map((alert) => alert.labels.alertname));
      return wanted.every((name) => firing.has(name)) || describeAlerts(alerts);
    });
    for (const name of wanted) {
      const pending = await prometheus!.query(`max_over_time(ALERTS{alertname="${name}",alertstate="pending"}[5m])`);
      expect(pending.map((sample) => `${sample.metric.alertname} ${sample.metric.job} ${sample.metric.namespace}`))
        .toEqual([`${name} ${target.service} ${target.namespace}`]);
    }
    const faulty = await stopClients();
    expect(countStatuses(faulty, (status, path) => status === 500 && path.startsWith('/key/'))).toBeGreaterThan(0);
  }), 90_000);

  it('makes KeyServerDown pending when the key server stops', withLogs(async () => {
    await server!.stop();
    const stoppedAt = Date.now();
    await waitFor('KeyServerDown to be pending or firing', 20_000, async () => {
      const alerts = await activeAlerts();
      return alerts.some((alert) => alert.labels.alertname === 'KeyServerDown') || describeAlerts(alerts);
    });
    // Only since the stop: the restart for the fault test left an earlier KeyServerDown behind.
    const window = `${Math.ceil((Date.now() - stoppedAt) / 1000) + 1}s`;
    const pending = await prometheus!.query(`max_over_time(ALERTS{alertname="KeyServerDown",alertstate="pending"}[${window}])`);
    expect(pending.map((sample) => sample.metric.instance)).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
  }), 40_000);
});
