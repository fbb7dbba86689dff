// The dashboards against Grafana's own published schema: @grafana/schema at the Grafana version versions.json pins.
// helpers/grafana-schema.ts states the checks as types; this suite compiles it with the TypeScript compiler, so a field
// Grafana does not define or a value of the wrong type fails here, and a planted unknown field shows the check bites.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultDashboard } from '@grafana/schema';
import * as ts from 'typescript';
import { keyServerDashboards } from '../../../../constructs/monitoring/dashboards/key-server-dashboards';
import versions from '../../../../versions.json';
import { asGrafanaJson } from '../../helpers/grafana-schema';

const root = path.resolve(__dirname, '..', '..', '..', '..');
const helpers = path.resolve(__dirname, '..', '..', 'helpers');
const checks = path.join(helpers, 'grafana-schema.ts');
/** A file that exists only in the compiler's view (beside the checks): a planted unknown field and a planted wrong value type. */
const plantedFaults = path.join(helpers, 'grafana-schema-planted-faults.ts');
const plantedFaultsSource = `
import type { PanelOptionsByType } from '../../../constructs/monitoring/dashboards/grafana-model';
import { expectNoUnknownFields, GrafanaJson, HeatmapOptions, TimeSeriesOptions, UnknownFields } from './grafana-schema';
expectNoUnknownFields<UnknownFields<PanelOptionsByType['timeseries'] & { legend: { position: string } }, TimeSeriesOptions>>();
export const wrongType: GrafanaJson<HeatmapOptions> = { cellGap: '1' };
`;

/** Type errors of the checks and of the planted faults, by file, as the compiler words them. */
function typeErrors(): { checks: string[]; plantedFaults: string[] } {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (config === undefined) throw new Error('tsconfig.json does not parse');
  const options = { ...config.options, noEmit: true };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => (path.resolve(file) === plantedFaults ? plantedFaultsSource : readFile(file));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => path.resolve(file) === plantedFaults || fileExists(file);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, ...rest) => (path.resolve(file) === plantedFaults
    ? ts.createSourceFile(file, plantedFaultsSource, language) : getSourceFile(file, language, ...rest));
  const program = ts.createProgram([checks, plantedFaults], options, host);
  const errorsIn = (file: string) => ts.getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, ' '));
  return { checks: errorsIn(checks), plantedFaults: errorsIn(plantedFaults) };
}

const target = { namespace: 'keys', job: 'key-server', deployment: 'key-server', container: 'key-server' };
const dashboards = keyServerDashboards({ target });

describe('key server dashboards against Grafana\'s published schema', () => {
  const errors = typeErrors();

  it('write only fields Grafana 13 defines, each with a value of its type (the compiler finds no error in the checks)', () => {
    expect(errors.checks).toEqual([]);
  });

  it('would fail on an unknown field or a wrong value type (negative control: planted faults are reported)', () => {
    expect(errors.plantedFaults).toEqual([
      expect.stringMatching(/\.legend\.position"' does not satisfy the constraint 'never'/),
      expect.stringMatching(/Type 'string' is not assignable to type 'number'/),
    ]);
  });

  it('are checked against @grafana/schema at exactly the Grafana version the manifests run', () => {
    const schemaPackage = JSON.parse(fs.readFileSync(require.resolve('@grafana/schema/package.json'), 'utf8')) as { version: string };
    const declared = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).devDependencies['@grafana/schema'];
    expect({ installed: schemaPackage.version, declared }).toEqual({ installed: versions.images.grafana.tag, declared: versions.images.grafana.tag });
  });

  it('carry Grafana 13\'s schemaVersion, so Grafana does not migrate them on every load', () => {
    for (const dashboard of dashboards) expect(dashboard.schemaVersion).toBe(defaultDashboard.schemaVersion);
  });

  it('use only panel types Grafana ships a schema for', () => {
    const shipped = fs.readdirSync(path.join(path.dirname(require.resolve('@grafana/schema/package.json')), 'dist', 'esm', 'raw', 'composable'));
    const used = [...new Set(dashboards.flatMap((dashboard) => dashboard.panels.map((panel) => panel.type)))];
    expect(used.filter((type) => !shipped.includes(type))).toEqual([]);
  });

  it('convert to Grafana\'s types panel by panel, every panel keeping its fields', () => {
    for (const dashboard of dashboards) {
      const converted = asGrafanaJson(dashboard);
      expect(converted.panels).toHaveLength(dashboard.panels.length);
      expect(JSON.parse(JSON.stringify(converted))).toEqual(JSON.parse(JSON.stringify(dashboard)));
    }
  });
});
