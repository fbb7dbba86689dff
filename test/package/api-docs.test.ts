// API.md is generated from the source (scripts/api-docs.ts) and must be current, so the reference never lags the code.
import * as fs from 'node:fs';
import { apiDocsFile, renderApiDocs } from '../../scripts/api-docs';

describe('API.md', () => {
  it('is what `npm run docs:api` writes for the current source (regenerate and commit it when this fails)', () => {
    expect(fs.readFileSync(apiDocsFile, 'utf8')).toBe(renderApiDocs());
  }, 60_000);

  it('documents every construct with its initializer and every props struct with its defaults', () => {
    const text = renderApiDocs();
    for (const construct of ['KeyServerApp', 'MonitoringStack', 'OperatorMonitoring', 'StandaloneMonitoring', 'RbacBundle']) {
      expect(text).toContain(`### ${construct}\n`);
      expect(text).toContain(`new ${construct}(scope: Construct, id: string`);
    }
    expect(text).toMatch(/### KeyServerAppProps\n[\s\S]*?\| `scaling`\? \| `KeyServerScaling` \| KeyServerScaling.autoscale\(\)[^|]+ \|/);
    // Classes made by static factories list the factories, and an interface its methods.
    expect(text).toMatch(/### KeyServerScaling\n[\s\S]*?- `KeyServerScaling.fixedReplicas\(replicas: number\): KeyServerScaling`/);
    expect(text).toMatch(/### IKeyServer\n[\s\S]*?- `allowMetricsFrom\(peer: PeerSelector\): void`/);
    expect(text).toMatch(/### EgressPolicy\n[\s\S]*?\| `DNS` \| `'dns'` \|/);
  }, 60_000);
});
