// Grafana's published schema as TypeScript checks: @grafana/schema's types at the Grafana version versions.json pins,
// and the compile-time checks that every field the dashboard builders write exists there with a value of its type.
// Compiled by test/constructs/dashboards-grafana-schema.test.ts with the TypeScript compiler API, so the checks run
// inside the test suite (a misspelt field or a wrong type fails a test, not only an editor).
import type { DataQuery, DataSourceRef, Dashboard, FieldConfigSource, GridPos, Panel } from '@grafana/schema';
import type { Options as BarGaugeOptions } from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type { Options as HeatmapOptions } from '@grafana/schema/dist/esm/raw/composable/heatmap/panelcfg/x/HeatmapPanelCfg_types.gen';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type { Options as TimeSeriesOptions } from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type { GrafanaDashboard, GrafanaPanel, PanelOptionsByType, PrometheusTarget } from '../../../constructs/monitoring/dashboards/grafana-model';

export type { BarGaugeOptions, HeatmapOptions, StatOptions, TimeSeriesOptions };

/**
 * The JSON a Grafana schema type describes, as a dashboard file may write it: string enums as their values, every
 * field optional (Grafana fills in what a file leaves out with its defaults), arrays as read-only arrays.
 */
export type GrafanaJson<T> = T extends string ? `${T}`
  : T extends number | boolean | null | undefined ? T
  : T extends ReadonlyArray<infer Element> ? ReadonlyArray<GrafanaJson<Element>>
  : T extends object ? { readonly [K in keyof T]?: GrafanaJson<T[K]> }
  : T;

/** Every key of any member of a union (keyof a union gives only the keys all members share). */
type AnyKey<T> = T extends unknown ? keyof T : never;
/** The type of key K in whichever members of the union have it. */
type FieldOf<T, K extends PropertyKey> = T extends unknown ? (K extends keyof T ? T[K] : never) : never;

/**
 * Paths of the fields `Ours` writes that `Theirs` does not define, at any depth; `never` when every field is Grafana's.
 * (Assignability alone would let an object carry extra fields.)
 */
export type UnknownFields<Ours, Theirs, Path extends string = ''> =
  Ours extends ReadonlyArray<infer Element>
    ? (NonNullable<Theirs> extends ReadonlyArray<infer TheirElement> ? UnknownFields<Element, TheirElement, `${Path}[]`> : `${Path} (not an array in Grafana's schema)`)
    : Ours extends object
      ? { [K in keyof Ours & string]: K extends AnyKey<NonNullable<Theirs>> ? UnknownFields<Ours[K], FieldOf<NonNullable<Theirs>, K>, `${Path}.${K}`> : `${Path}.${K}` }[keyof Ours & string]
      : never;

/** Compiles only when T is never; the compiler's error then names the unknown field's path. */
export function expectNoUnknownFields<T extends never>(): T[] {
  return [];
}

/** Options and field config of each panel type as Grafana's composable panel schemas define them. */
interface GrafanaOptionsByType {
  readonly timeseries: TimeSeriesOptions;
  readonly stat: StatOptions;
  readonly heatmap: HeatmapOptions;
  readonly bargauge: BarGaugeOptions;
}

// Compile-time: every field the builders write exists in Grafana 13's schema with a value of its type.
expectNoUnknownFields<UnknownFields<Omit<GrafanaDashboard, 'panels'>, Dashboard>>();
expectNoUnknownFields<UnknownFields<Omit<GrafanaPanel, 'options' | 'targets' | 'datasource' | 'gridPos' | 'fieldConfig'>, Panel>>();
expectNoUnknownFields<UnknownFields<GrafanaPanel['datasource'], DataSourceRef>>();
expectNoUnknownFields<UnknownFields<GrafanaPanel['gridPos'], GridPos>>();
expectNoUnknownFields<UnknownFields<GrafanaPanel['fieldConfig'], FieldConfigSource>>();
// A Prometheus query: DataQuery's common fields plus the Prometheus datasource's own (expr, legendFormat, range, instant, format).
expectNoUnknownFields<UnknownFields<Omit<PrometheusTarget, 'expr' | 'legendFormat' | 'range' | 'instant' | 'format'>, DataQuery>>();
expectNoUnknownFields<UnknownFields<PanelOptionsByType['timeseries'], TimeSeriesOptions>>();
expectNoUnknownFields<UnknownFields<PanelOptionsByType['stat'], StatOptions>>();
expectNoUnknownFields<UnknownFields<PanelOptionsByType['heatmap'], HeatmapOptions>>();
expectNoUnknownFields<UnknownFields<PanelOptionsByType['bargauge'], BarGaugeOptions>>();

/** The dashboard, panel by panel, as values of Grafana's types (fails to compile on a wrong value type). */
export function asGrafanaJson(dashboard: GrafanaDashboard): GrafanaJson<Dashboard> {
  return { ...dashboard, panels: dashboard.panels.map(asGrafanaPanel) };
}

function asGrafanaPanel(panel: GrafanaPanel): GrafanaJson<Panel> {
  const options = panel.options as PanelOptionsByType[typeof panel.type];
  const checked: { [K in keyof GrafanaOptionsByType]: GrafanaJson<GrafanaOptionsByType[K]> } = {
    timeseries: options as PanelOptionsByType['timeseries'],
    stat: options as PanelOptionsByType['stat'],
    heatmap: options as PanelOptionsByType['heatmap'],
    bargauge: options as PanelOptionsByType['bargauge'],
  };
  return { ...panel, targets: panel.targets.map((query) => ({ ...query })), options: checked[panel.type] as Record<string, unknown> };
}

