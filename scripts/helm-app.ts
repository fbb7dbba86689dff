// The cdk8s app behind `npm run synth:helm`: the same charts as main.ts, one file per object, as Helm templates expect.
import { App, YamlOutputType } from 'cdk8s';
import { buildOperatorMode, buildStandalone, environmentFrom } from '../main';

/** Which of main.ts's outputs the chart packages: `operator` (dist/) or `standalone` (dist/standalone/). */
export type HelmMode = 'operator' | 'standalone';

export function helmModeFrom(value: string | undefined): HelmMode {
  const mode = value === undefined || value === '' ? 'operator' : value;
  if (mode !== 'operator' && mode !== 'standalone') {
    throw new Error(`KEY_SERVER_HELM_MODE must be operator or standalone; got '${mode}'`);
  }
  return mode;
}

if (require.main === module) {
  // `cdk8s synth --format helm` runs this with CDK8S_OUTDIR set to the chart's templates/ folder.
  const app = new App({ outdir: process.env.CDK8S_OUTDIR ?? 'templates', yamlOutputType: YamlOutputType.FILE_PER_RESOURCE });
  const build = helmModeFrom(process.env.KEY_SERVER_HELM_MODE) === 'standalone' ? buildStandalone : buildOperatorMode;
  // No Namespace in the chart: `helm install -n key-server --create-namespace` makes it, and would refuse a chart that
  // also holds it (the object exists and is not owned by the release).
  build(app, environmentFrom(process.env.KEY_SERVER_ENV), { createNamespace: false });
  app.synth();
}
