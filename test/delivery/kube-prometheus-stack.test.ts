// The README's kube-prometheus-stack install and dist/ agree: its release label selects the ServiceMonitor and the
// PrometheusRule, and its Grafana sidecar values honour the folder annotation the dashboard ConfigMaps carry.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { dashboardFolderAnnotation } from '../../constructs/monitoring/operator-monitoring';
import { readObjects } from '../../scripts/common/manifests';
import { repoRoot } from './helpers/fake-kubectl';

const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const objects = readObjects(path.join(repoRoot, 'dist'));

/** The README's `helm install … kube-prometheus-stack …` command, continuation lines joined. */
function installCommand(): { release: string; values: Record<string, string> } {
  const joined = readme.replace(/\\\n\s*/g, ' ');
  const line = joined.split('\n').find((candidate) => /^helm install \S+ \S*kube-prometheus-stack/.test(candidate.trim()));
  if (line === undefined) throw new Error('README has no `helm install <release> …kube-prometheus-stack` command');
  const words = line.replace(/#.*$/, '').trim().split(/\s+/);
  const values: Record<string, string> = {};
  words.forEach((word, index) => {
    if (word === '--set') {
      const [key, value] = words[index + 1].split('=');
      values[key] = value;
    }
  });
  return { release: words[2], values };
}

describe('the README\'s kube-prometheus-stack install', () => {
  const { release, values } = installCommand();

  it('names the release whose label the ServiceMonitor and PrometheusRule carry', () => {
    for (const kind of ['ServiceMonitor', 'PrometheusRule']) {
      const object = objects.find((candidate) => candidate.kind === kind);
      expect({ kind, release: object?.metadata.labels?.release }).toEqual({ kind, release });
    }
  });

  it('makes the Grafana sidecar honour the folder annotation of the dashboard ConfigMaps (its defaults put them in "General")', () => {
    expect(values).toEqual(expect.objectContaining({
      'grafana.sidecar.dashboards.folderAnnotation': dashboardFolderAnnotation,
      'grafana.sidecar.dashboards.provider.foldersFromFilesStructure': 'true',
    }));
    const dashboards = objects.filter((object) => object.kind === 'ConfigMap' && object.metadata.labels?.grafana_dashboard === '1');
    expect(dashboards.length).toBe(2);
    for (const dashboard of dashboards) {
      expect((dashboard.metadata as { annotations?: Record<string, string> }).annotations?.[dashboardFolderAnnotation]).toBe('Key Server');
    }
  });

  it('shows the same values as the YAML block of "Opening the dashboards"', () => {
    const block = /```yaml\n(grafana:\n[\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const yaml = parseAllDocuments(block as string)[0].toJSON();
    expect(yaml).toEqual({ grafana: { sidecar: { dashboards: { folderAnnotation: values['grafana.sidecar.dashboards.folderAnnotation'], provider: { foldersFromFilesStructure: true } } } } });
  });
});
