// Turns dashboard panels into the PromQL Grafana would send, and finds the panels that would show "No data".
import type { GrafanaDashboard } from '../../constructs';
import type { PromSample } from './prometheus';

/** One query of one panel, with the expression Grafana would send. */
export interface PanelQuery {
  readonly dashboard: string;
  readonly panel: string;
  readonly refId: string;
  /** The expression as stored in the dashboard. */
  readonly rawExpr: string;
  /** After variable substitution. */
  readonly expr: string;
}

/** What Grafana would put in place of the dashboard's variables. */
export interface GrafanaVariables {
  /** The datasource's scrape interval in seconds; `$__rate_interval` is four of them. */
  readonly scrapeIntervalSeconds: number;
  /** Values of the dashboard's own (template) variables by name. @default {} */
  readonly values?: Readonly<Record<string, string>>;
}

/**
 * Substitutes `$__rate_interval` (as Grafana does when the range is short: 4 × the scrape interval) and the
 * dashboard's variables (`$name`, `${name}`, `[[name]]`). Throws on any other variable, so a new one fails here
 * instead of sending Prometheus a query it cannot parse.
 */
export function substituteVariables(expr: string, variables: GrafanaVariables): string {
  const values: Record<string, string> = {
    __rate_interval: `${4 * variables.scrapeIntervalSeconds}s`,
    ...variables.values,
  };
  return expr.replace(/\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]/g, (match, braced?: string, bare?: string, bracketed?: string) => {
    const name = braced ?? bare ?? bracketed ?? '';
    if (!(name in values)) {
      throw new Error(`unknown Grafana variable ${match} in ${expr}`);
    }
    return values[name];
  });
}

/** Every query of every panel, in dashboard order. */
export function panelQueries(dashboards: readonly GrafanaDashboard[], variables: GrafanaVariables): PanelQuery[] {
  return dashboards.flatMap((dashboard) => dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({
    dashboard: dashboard.title,
    panel: panel.title,
    refId: target.refId,
    rawExpr: target.expr,
    expr: substituteVariables(target.expr, variables),
  }))));
}

/** Grafana draws nothing for a query without series, and nothing for NaN or infinite values. */
export function drawsSomething(samples: readonly PromSample[]): boolean {
  return samples.some((sample) => Number.isFinite(Number(sample.value)));
}

/** How a blank query is named in a failure: dashboard, panel and query, then the expression. */
export function describeQuery(query: PanelQuery): string {
  return `dashboard "${query.dashboard}", panel "${query.panel}", query ${query.refId}: ${query.expr}`;
}

/**
 * The queries that would leave their panel blank: no series, or only NaN/infinite values. A query Prometheus
 * refuses counts as blank too, with its error.
 */
export async function blankQueries(
  queries: readonly PanelQuery[], query: (expr: string) => Promise<PromSample[]>,
): Promise<Array<{ readonly query: PanelQuery; readonly reason: string }>> {
  const blank: Array<{ query: PanelQuery; reason: string }> = [];
  for (const panelQuery of queries) {
    try {
      const samples = await query(panelQuery.expr);
      if (!drawsSomething(samples)) {
        blank.push({ query: panelQuery, reason: samples.length === 0 ? 'no series' : `only ${samples.map((s) => s.value).join(', ')}` });
      }
    } catch (error) {
      blank.push({ query: panelQuery, reason: (error as Error).message.split('\n')[0] });
    }
  }
  return blank;
}
