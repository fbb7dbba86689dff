// The "Key Server HTTP Overview" dashboard: traffic, errors, latency, saturation and pods up.
import { metricNames as metric } from '../../../server/metric-catalogue';
import { MonitoredKeyServer, scrapeSelector } from '../monitored-key-server';
import { servedTrafficMatcher } from '../rules/key-server-rules';
import { DashboardSpec } from './grafana-model';

/**
 * Grafana's `$__rate_interval` is at least four scrape intervals, so rate() always has two samples;
 * `$__interval` blanked panels when zoomed in.
 */
export const rateInterval = '[$__rate_interval]';

/** `histogram_quantile` over a histogram's buckets, summed across pods. */
export function quantileQuery(histogram: string, selector: string, quantile: number): { expr: string; legend: string } {
  return {
    expr: `histogram_quantile(${quantile}, sum by (le) (rate(${histogram}_bucket${selector}${rateInterval})))`,
    legend: `p${Math.round(quantile * 100)}`,
  };
}

export function httpOverviewDashboard(target: MonitoredKeyServer): DashboardSpec {
  const all = scrapeSelector(target);
  const served = scrapeSelector(target, servedTrafficMatcher());
  const servedWith = (codePattern: string) => scrapeSelector(target, servedTrafficMatcher(), `code=~"${codePattern}"`);
  const servedRate = `sum(rate(${metric.httpRequestsTotal}${served}${rateInterval}))`;
  // `or … * 0`: no 5xx series exists until the first server error, and a ratio of nothing draws "No data", not 0.
  const ratio = (codePattern: string) =>
    `(sum(rate(${metric.httpRequestsTotal}${servedWith(codePattern)}${rateInterval})) or ${servedRate} * 0) / ${servedRate}`;
  return {
    uid: 'key-server-http',
    title: 'Key Server HTTP Overview',
    description: 'Requests, errors, latency and saturation of the key server. Probes and scrapes are left out of ratios and latency.',
    tags: ['key-server', 'http'],
    panels: [
      {
        type: 'stat', title: 'Pods up', unit: 'short', width: 6, height: 4,
        description: 'Targets Prometheus scraped successfully at the last scrape.',
        queries: [{ expr: `sum(up${all})`, legend: 'up' }],
        thresholds: [{ color: 'red', value: null }, { color: 'green', value: 1 }],
      },
      {
        type: 'stat', title: 'Served requests', unit: 'reqps', width: 6, height: 4,
        description: 'Requests per second, without probes and scrapes.',
        queries: [{ expr: servedRate, legend: 'requests' }],
      },
      {
        type: 'stat', title: '5xx ratio', unit: 'percentunit', width: 6, height: 4,
        description: 'Share of served requests answered with a server error.',
        queries: [{ expr: ratio('5..'), legend: '5xx' }],
        thresholds: [{ color: 'green', value: null }, { color: 'orange', value: 0.01 }, { color: 'red', value: 0.05 }],
      },
      {
        type: 'stat', title: 'p95 latency', unit: 's', width: 6, height: 4,
        description: '95th percentile time to answer a served request.',
        queries: [{ ...quantileQuery(metric.httpRequestDurationSeconds, served, 0.95) }],
        thresholds: [{ color: 'green', value: null }, { color: 'red', value: 0.5 }],
      },
      {
        type: 'timeseries', title: 'Request rate by code and handler', unit: 'reqps', width: 12,
        description: 'Every answered request, probes and scrapes included, by status code and route template.',
        queries: [{ expr: `sum by (code, handler) (rate(${metric.httpRequestsTotal}${all}${rateInterval}))`, legend: '{{code}} {{handler}}' }],
      },
      {
        type: 'timeseries', title: 'Error ratio', unit: 'percentunit', width: 12, min: 0,
        description: 'Share of served requests answered with 5xx (our errors) and 4xx (client errors: a high share means scanning or a broken client).',
        queries: [{ expr: ratio('5..'), legend: '5xx' }, { expr: ratio('4..'), legend: '4xx' }],
      },
      {
        type: 'timeseries', title: 'Latency percentiles', unit: 's', width: 8, min: 0,
        description: `From the ${metric.httpRequestDurationSeconds} histogram of served requests.`,
        queries: [0.5, 0.95, 0.99].map((quantile) => quantileQuery(metric.httpRequestDurationSeconds, served, quantile)),
      },
      {
        type: 'timeseries', title: 'In-flight requests', unit: 'short', width: 8, min: 0,
        description: 'Requests being processed right now, per pod: a rising line means the server is saturated.',
        queries: [{ expr: `sum by (pod) (${metric.httpRequestsInFlight}${all})`, legend: '{{pod}}' }],
      },
      {
        type: 'timeseries', title: 'Refused before routing', unit: 'reqps', width: 8, min: 0,
        description: 'Requests refused before routing, by the HTTP parser (400 malformed, 408 too slow, 431 headers too large) or the conformance checks (400 bad framing or Host, 405 CONNECT, 413 a body where none belongs, 417 an unknown Expect): scanners, slow-loris clients or a broken proxy.',
        queries: [{ expr: `sum by (code) (rate(${metric.httpRequestsRejectedTotal}${all}${rateInterval}))`, legend: '{{code}}' }],
      },
      {
        type: 'timeseries', title: 'CPU', unit: 'short', width: 8, min: 0,
        description: 'CPU seconds per second used by each server process.',
        queries: [{ expr: `sum by (pod) (rate(${metric.processCpuSecondsTotal}${all}${rateInterval}))`, legend: '{{pod}}' }],
      },
      {
        type: 'timeseries', title: 'Resident memory', unit: 'bytes', width: 8, min: 0,
        description: 'Resident set size of each server process.',
        queries: [{ expr: `sum by (pod) (${metric.processResidentMemoryBytes}${all})`, legend: '{{pod}}' }],
      },
      {
        type: 'timeseries', title: 'Event loop lag p99', unit: 's', width: 8, min: 0,
        description: 'How late the Node.js event loop runs callbacks: the first sign of CPU saturation.',
        queries: [{ expr: `max by (pod) (${metric.nodejsEventloopLagP99Seconds}${all})`, legend: '{{pod}}' }],
      },
      {
        type: 'timeseries', title: 'Open connections', unit: 'short', width: 6, min: 0,
        description: 'TCP connections open on each pod, TLS handshakes included; at --max-connections new ones evict idle ones or are refused.',
        queries: [{ expr: `sum by (pod) (${metric.httpOpenConnections}${all})`, legend: '{{pod}}' }],
      },
      {
        type: 'timeseries', title: 'New connections by protocol', unit: 'cps', width: 6, min: 0,
        description: 'Connections that reached HTTP per second, by the protocol ALPN negotiated: a rise without more requests means clients stopped reusing connections.',
        queries: [{ expr: `sum by (protocol) (rate(${metric.httpConnectionsTotal}${all}${rateInterval}))`, legend: '{{protocol}}' }],
      },
      {
        type: 'timeseries', title: 'Connections closed by the server', unit: 'cps', width: 6, min: 0,
        description: 'Connections the server closed to protect itself, by reason: max_connections (refused at the cap), idle_evicted (harmless), send_timeout (the client stopped reading), h2_abuse (an HTTP/2 flood).',
        queries: [{ expr: `sum by (reason) (rate(${metric.httpConnectionsClosedTotal}${all}${rateInterval}))`, legend: '{{reason}}' }],
      },
      {
        type: 'timeseries', title: 'Requests never answered', unit: 'reqps', width: 6, min: 0,
        description: 'Requests received and never answered, by reason: client_gone (the client left first), backlog_limit (too many pipelined or waiting streams). No key was generated for any of them.',
        queries: [{ expr: `sum by (reason) (rate(${metric.httpRequestsUnansweredTotal}${all}${rateInterval}))`, legend: '{{reason}}' }],
      },
    ],
  };
}
