// Small typed builders for Grafana dashboard JSON (schema 42, Grafana 13's): just the panel kinds the key server
// dashboards use. test/constructs/dashboards-grafana-schema.test.ts checks every field they write against Grafana's
// own published types, @grafana/schema at the Grafana version versions.json pins.
//
// Why not @grafana/grafana-foundation-sdk: its `latest` is 0.0.21 and its per-Grafana releases stop at
// `11.6.0-cogv0.0.x.<timestamp>` pre-releases (checked with `npm view`), none for Grafana 13, and its per-panel
// modules are subpath `exports` that this project's `module: commonjs` (node10 resolution) does not resolve.

/** How panels reference the Prometheus datasource: by uid, never by display name, so a rename does not break them. */
export interface DatasourceRef {
  readonly type: 'prometheus';
  readonly uid: string;
}

/** One PromQL query of a panel. */
export interface PrometheusTarget {
  readonly refId: string;
  readonly datasource: DatasourceRef;
  readonly expr: string;
  readonly legendFormat: string;
  readonly range: boolean;
  readonly instant: boolean;
  readonly format?: 'time_series' | 'heatmap';
}

export interface Threshold {
  readonly color: string;
  readonly value: number | null;
}

/** Legend of a time series panel (Grafana's VizLegendOptions). */
export interface LegendOptions {
  readonly displayMode: 'list' | 'table';
  readonly placement: 'bottom' | 'right';
  readonly showLegend: boolean;
  readonly calcs: readonly string[];
}

/** Which values a single-value panel shows (Grafana's ReduceDataOptions). */
export interface ReduceOptions {
  readonly calcs: readonly string[];
  readonly fields: string;
  readonly values: boolean;
}

/** Options of each panel type, the fields these dashboards set (Grafana fills in the rest with its defaults). */
export interface PanelOptionsByType {
  readonly timeseries: { readonly legend: LegendOptions; readonly tooltip: { readonly mode: 'single' | 'multi' | 'none'; readonly sort: 'none' | 'asc' | 'desc' } };
  readonly stat: { readonly reduceOptions: ReduceOptions; readonly colorMode: 'value' | 'background' | 'none'; readonly graphMode: 'area' | 'none' };
  readonly heatmap: {
    readonly calculate: boolean;
    readonly yAxis: { readonly unit: string };
    readonly color: { readonly mode: 'scheme' | 'opacity'; readonly scheme: string };
    readonly cellGap: number;
  };
  readonly bargauge: { readonly displayMode: 'basic' | 'lcd' | 'gradient'; readonly orientation: 'horizontal' | 'vertical'; readonly reduceOptions: ReduceOptions };
}

export type PanelType = keyof PanelOptionsByType;

/** A panel as Grafana stores it, with the fields these dashboards set. */
export interface GrafanaPanel {
  readonly id: number;
  readonly type: PanelType;
  readonly title: string;
  readonly description: string;
  readonly datasource: DatasourceRef;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets: readonly PrometheusTarget[];
  readonly fieldConfig: {
    readonly defaults: {
      readonly unit: string;
      readonly min?: number;
      readonly max?: number;
      readonly thresholds?: { readonly mode: 'absolute'; readonly steps: readonly Threshold[] };
    };
    readonly overrides: readonly never[];
  };
  readonly options: PanelOptionsByType[PanelType];
}

/** A dashboard as the Grafana provisioning and the kube-prometheus-stack sidecar load it from a `.json` file. */
export interface GrafanaDashboard {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly schemaVersion: number;
  readonly version: number;
  readonly editable: boolean;
  readonly timezone: string;
  readonly refresh: string;
  readonly time: { readonly from: string; readonly to: string };
  readonly templating: { readonly list: readonly never[] };
  readonly annotations: { readonly list: readonly never[] };
  readonly links: readonly never[];
  readonly panels: readonly GrafanaPanel[];
}

/** A panel before layout: what a dashboard definition states. */
export interface PanelSpec {
  readonly type: GrafanaPanel['type'];
  readonly title: string;
  readonly description: string;
  /**
   * Unit id from Grafana's unit list (`reqps`, `percentunit`, `s`, `bytes`, `short`, `d`): of the values, or of a
   * heatmap's y axis (its buckets).
   */
  readonly unit: string;
  /**
   * Unit of a heatmap's cells, the values in each bucket.
   * @default - `unit`
   */
  readonly cellUnit?: string;
  readonly queries: ReadonlyArray<{ readonly expr: string; readonly legend?: string; readonly format?: 'heatmap' }>;
  /** Width in grid columns (24 make a row). */
  readonly width: number;
  /** Height in grid rows. @default 8 */
  readonly height?: number;
  readonly min?: number;
  readonly thresholds?: readonly Threshold[];
}

/** What a dashboard definition states; ids, positions and datasource references are filled in by {@link buildDashboard}. */
export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly panels: readonly PanelSpec[];
}

const gridColumns = 24;

/** Lays panels out left to right, wrapping at 24 columns, and references the datasource by uid in every panel and query. */
export function buildDashboard(spec: DashboardSpec, datasourceUid: string): GrafanaDashboard {
  const datasource: DatasourceRef = { type: 'prometheus', uid: datasourceUid };
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const panels = spec.panels.map((panel, index): GrafanaPanel => {
    const height = panel.height ?? 8;
    if (panel.width < 1 || panel.width > gridColumns) {
      throw new Error(`panel "${panel.title}" width must be 1 to ${gridColumns} columns, got ${panel.width}`);
    }
    if (x + panel.width > gridColumns) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { x, y, w: panel.width, h: height };
    x += panel.width;
    rowHeight = Math.max(rowHeight, height);
    return {
      id: index + 1,
      type: panel.type,
      title: panel.title,
      description: panel.description,
      datasource,
      gridPos,
      targets: panel.queries.map((query, queryIndex) => ({
        refId: String.fromCharCode(65 + queryIndex),
        datasource,
        expr: query.expr,
        legendFormat: query.legend ?? '__auto',
        // Stats show the latest value; time series and heatmaps need the range.
        range: panel.type !== 'stat',
        instant: panel.type === 'stat',
        ...(query.format ? { format: query.format } : {}),
      })),
      fieldConfig: {
        defaults: {
          unit: panel.cellUnit ?? panel.unit,
          ...(panel.min !== undefined ? { min: panel.min } : {}),
          ...(panel.thresholds ? { thresholds: { mode: 'absolute' as const, steps: panel.thresholds } } : {}),
        },
        overrides: [],
      },
      options: panelOptions(panel.type, panel.unit),
    };
  });
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: spec.tags,
    // Grafana 13's own version: a lower one makes Grafana migrate the dashboard on every load.
    schemaVersion: 42,
    version: 1,
    editable: false,
    timezone: 'browser',
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: { list: [] },
    annotations: { list: [] },
    links: [],
    panels,
  };
}

function panelOptions(type: PanelType, unit: string): PanelOptionsByType[PanelType] {
  switch (type) {
    case 'timeseries':
      return { legend: { displayMode: 'list', placement: 'bottom', showLegend: true, calcs: [] }, tooltip: { mode: 'multi', sort: 'desc' } };
    case 'stat':
      return { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area' };
    case 'heatmap':
      return { calculate: false, yAxis: { unit }, color: { mode: 'scheme', scheme: 'Oranges' }, cellGap: 1 };
    case 'bargauge':
      return { displayMode: 'gradient', orientation: 'horizontal', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } };
  }
}
