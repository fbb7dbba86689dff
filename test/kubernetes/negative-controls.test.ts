// Negative controls for the API-server harness: faults planted in copies of dist/'s objects make the same apply
// the other tests use fail (or warn) with the API server's own message, so a green apply means something.
import { join, resolve } from 'node:path';
import { readObjects, toYamlStream, type KubeObject } from '../../scripts/common/manifests';
import { serverSideApplyArgs, startControlPlane, type ControlPlane } from './helpers/control-plane';

const dist = join(resolve(__dirname, '..', '..'), 'dist');

/** A deep copy of the dist/ object of `kind`, for planting one fault in it. */
function copyOf(kind: string): any {
  const object = readObjects(dist).find((candidate) => candidate.kind === kind);
  if (object === undefined) throw new Error(`dist/ has no ${kind}`);
  return structuredClone(object) as KubeObject;
}

describe('the API-server harness fails on planted faults', () => {
  let controlPlane: ControlPlane;

  beforeAll(async () => {
    controlPlane = await startControlPlane();
    const applied = await controlPlane.kubectl(serverSideApplyArgs(dist));
    if (applied.code !== 0) throw new Error(`apply dist/ failed: ${applied.stderr}`);
  }, 600_000);

  afterAll(async () => {
    await controlPlane?.stop();
  });

  const apply = (object: KubeObject) => controlPlane.kubectl(serverSideApplyArgs('-'), toYamlStream([object]));

  it('refuses a container port name of 16 characters (the IANA_SVC_NAME limit is 15)', async () => {
    const deployment = copyOf('Deployment');
    deployment.spec.template.spec.containers[0].ports[0].name = 'https-sixteen-ch';
    const result = await apply(deployment);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/ports\[0\]\.name: Invalid value: "https-sixteen-ch": must be no more than 15 characters/);
  });

  it('refuses a misspelt ServiceMonitor field under strict validation (the CRD\'s structural schema)', async () => {
    const serviceMonitor = copyOf('ServiceMonitor');
    serviceMonitor.spec.endpoints[0].scrapeTimout = serviceMonitor.spec.endpoints[0].scrapeTimeout;
    const result = await apply(serviceMonitor);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/\.spec\.endpoints\[0\]\.scrapeTimout: field not declared in schema/);
  });

  it('warns on a Deployment whose pods would violate the namespace\'s restricted Pod Security level', async () => {
    const deployment = copyOf('Deployment');
    deployment.spec.template.spec.securityContext.runAsNonRoot = false;
    const result = await apply(deployment);
    expect(result.stderr).toMatch(/Warning: would violate PodSecurity "restricted:[^"]+": runAsNonRoot != true/);
  });
});
