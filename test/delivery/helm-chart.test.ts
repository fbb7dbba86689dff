// `npm run synth:helm`: a chart versioned like the package, one template per object, nothing left for Helm to fill
// in, rendering to exactly the objects of dist/. (helm itself is not installable here; this checks the structure.)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { readObjects, type KubeObject } from '../../scripts/common/manifests';
import { escapeHelmDelimiters } from '../../scripts/synth-helm';
import { FakeKubectl, repoRoot, runNpmScript } from './helpers/fake-kubectl';

const packageJson = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
/** The only template action the chart may contain: the escape that prints a literal `{{`. */
const escapedDelimiter = '{{ "{{" }}';

/** What Helm prints for a template whose only actions are escaped delimiters. */
function render(template: string): string {
  return template.split(escapedDelimiter).join('{{');
}

function key(object: KubeObject): string {
  return `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

describe('escapeHelmDelimiters', () => {
  test.each([
    ['no delimiters', 'plain: text'],
    ['an alert annotation', 'summary: "{{ $labels.namespace }}/{{ $labels.pod }} down"'],
    ['a Grafana legend', 'legendFormat: "{{code}} {{handler}}"'],
    ['adjacent braces', '{{{{ }}}}'],
  ])('leaves %s printing verbatim after rendering', (_name, text) => {
    const escaped = escapeHelmDelimiters(text);
    expect(escaped.split(escapedDelimiter).join('')).not.toContain('{{');
    expect(render(escaped)).toBe(text);
  });
});

describe('npm run synth:helm', () => {
  let scratch: string;
  let chart: string;
  const fake = new FakeKubectl();

  beforeAll(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'key-server-chart-'));
    chart = path.join(scratch, 'key-server');
    const result = await runNpmScript('synth:helm', ['--out', chart], { ...fake.environment({}), KEY_SERVER_ENV: '' }, 90_000);
    if (result.code !== 0) throw new Error(`synth:helm failed: ${result.stderr}`);
  }, 100_000);

  afterAll(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
    fake.remove();
  });

  const templates = (): string[] => fs.readdirSync(path.join(chart, 'templates')).sort();

  test('writes Chart.yaml v2 named and versioned like package.json (version and appVersion)', () => {
    const metadata = parse(fs.readFileSync(path.join(chart, 'Chart.yaml'), 'utf8')) as Record<string, string>;
    expect(metadata).toMatchObject({ apiVersion: 'v2', name: packageJson.name, version: packageJson.version, appVersion: packageJson.version, type: 'application' });
    expect(metadata.description).toBeTruthy();
  });

  test('bundles no CRDs: cert-manager and prometheus-operator installs own theirs', () => {
    expect(fs.existsSync(path.join(chart, 'crds'))).toBe(false);
  });

  test('has one template per object', () => {
    expect(templates().length).toBeGreaterThan(0);
    for (const file of templates()) {
      const objects = parseAllDocuments(render(fs.readFileSync(path.join(chart, 'templates', file), 'utf8'))).filter((document) => document.contents !== null);
      expect({ file, objects: objects.length }).toEqual({ file, objects: 1 });
    }
  });

  test('leaves nothing for Helm to fill in: no values, no actions besides escaped literal braces', () => {
    expect(fs.existsSync(path.join(chart, 'values.yaml'))).toBe(false);
    for (const file of templates()) {
      const text = fs.readFileSync(path.join(chart, 'templates', file), 'utf8');
      expect({ file, unrendered: text.split(escapedDelimiter).join('').includes('{{') }).toEqual({ file, unrendered: false });
    }
  });

  const renderedObjects = (): KubeObject[] => templates().map((file) => parse(render(fs.readFileSync(path.join(chart, 'templates', file), 'utf8'))) as KubeObject);

  test('holds no Namespace, so `helm install -n key-server --create-namespace` owns every object it applies', () => {
    const objects = renderedObjects();
    expect(objects.filter((object) => object.kind === 'Namespace')).toEqual([]);
    // Every namespaced object goes into the one namespace `-n` names.
    expect([...new Set(objects.flatMap((object) => (object.metadata.namespace === undefined ? [] : [object.metadata.namespace])))]).toEqual(['key-server']);
  });

  test('renders to exactly the objects of dist/ (operator mode) but its Namespace, field for field', () => {
    const rendered = new Map(renderedObjects().map((object) => [key(object), object]));
    const expected = new Map(readObjects(path.join(repoRoot, 'dist')).filter((object) => object.kind !== 'Namespace').map((object) => [key(object), object]));
    expect([...rendered.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, object] of expected) {
      expect(rendered.get(name)).toEqual(object);
    }
  });
});
