// KeyServerApp refuses bad props at synth time with an error naming the prop, instead of writing a broken manifest.
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { DisruptionBudget, IssuerKind, KeyServerApp, KeyServerAppProps, KeyServerScaling } from '../../../constructs';
import { defaultKeyServerResources } from '../../../constructs/key-server/resources';
import { synthesize } from '../helpers/synth';

const build = (props: KeyServerAppProps) => () => synthesize((scope) => new KeyServerApp(scope, 'keys', props));
const withCpu = (request: kplus.Cpu, limit: kplus.Cpu): kplus.ContainerResources => ({ ...defaultKeyServerResources, cpu: { request, limit } });

describe('KeyServerApp props validation', () => {
  // What the server constrains (sizes, ports, delays, rates) is checked by its own parser (args.ts) and named by prop.
  test.each<[string, KeyServerAppProps, RegExp]>([
    ['minSize above maxSize', { minSize: 64, maxSize: 32 }, /^minSize \(64\) must not be greater than maxSize \(32\) \(the server's --min-size and --max-size\)$/],
    ['maxSize above the server cap', { maxSize: 65537 }, /^maxSize must be an integer from 1 to 65536, got "65537" \(the server's --max-size\)$/],
    ['minSize of 0', { minSize: 0 }, /^minSize must be an integer from 1 to 65536, got "0" \(the server's --min-size\)$/],
    ['maxConnections of 0', { maxConnections: 0 }, /^maxConnections must be an integer from 1 to 100000, got "0" \(the server's --max-connections\)$/],
    ['a fractional maxConnections', { maxConnections: 64.5 }, /^maxConnections must be an integer from 1 to 100000, got "64.5" \(the server's --max-connections\)$/],
    ['non-DNS name', { name: 'Key_Server' }, /^name must be a DNS label .* got 'Key_Server'$/],
    ['non-DNS namespace', { namespace: 'keys.prod' }, /^namespace must be a DNS label/],
    ['too long namespace', { namespace: 'a'.repeat(64) }, /^namespace must be a DNS label/],
    ['https port out of range', { httpsPort: 70000 }, /^httpsPort must be an integer between 1 and 65535; got 70000$/],
    ['metrics port 0', { metricsPort: 0 }, /^metricsPort must be an integer between 1 and 65535; got 0$/],
    ['same https and metrics port', { httpsPort: 9000, metricsPort: 9000 }, /^metricsPort \(9000\) must differ from httpsPort \(the server's --metrics-port and --srv-port\)$/],
    ['latest image tag', { imageTag: 'latest' }, /^imageTag must name a version; 'latest' is refused/],
    ['image tag with a colon', { imageTag: 'v1:2' }, /^imageTag must be a Docker tag/],
    ['image with a tag', { image: 'ghcr.io/example/key-server:1.0' }, /^image must be a repository without tag or digest/],
    ['image with a digest', { image: `ghcr.io/example/key-server@sha256:${'a'.repeat(64)}` }, /^image must be a repository without tag or digest/],
    ['image without a registry, which docker.io would serve', { image: 'key-server' }, /^image must be .*it names no registry/],
    ['image on Docker Hub written without its registry', { image: 'example/key-server' }, /^image must be .*it names no registry/],
    ['a digest that is not sha256', { imageDigest: 'md5:abc' }, /^imageDigest must be .*a digest is sha256:/],
    ['a memory limit below 128Mi', { resources: { cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(200) }, memory: { request: Size.mebibytes(64), limit: Size.mebibytes(96) } } }, /^resources.memory.limit must be at least 128Mi .*got 96Mi$/],
    ['grace period not above the shutdown delay', { shutdownDelay: Duration.seconds(10), terminationGracePeriod: Duration.seconds(10) }, /^terminationGracePeriod must be a whole number of seconds above shutdownDelay \(10 s\) plus the server's drain \(10 s\), so above 20 s; got 10 s$/],
    ['grace period that cuts the drain short', { shutdownDelay: Duration.seconds(5), terminationGracePeriod: Duration.seconds(15) }, /^terminationGracePeriod must be .* so above 15 s; got 15 s$/],
    ['shutdown delay above the server limit', { shutdownDelay: Duration.minutes(6) }, /^shutdownDelay must be a number from 0 to 300, got "360" \(the server's --shutdown-delay\)$/],
    ['resources without memory', { resources: { cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(200) } } }, /^resources must set cpu.request, cpu.limit, memory.request and memory.limit$/],
    ['CPU request above its limit', { resources: { cpu: { request: kplus.Cpu.units(1), limit: kplus.Cpu.millis(500) }, memory: { request: Size.mebibytes(64), limit: Size.mebibytes(64) } } }, /^resources.cpu.request \(1\) must not exceed resources.cpu.limit \(500m\)$/],
    ['memory request above its limit', { resources: { cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(100) }, memory: { request: Size.mebibytes(256), limit: Size.mebibytes(128) } } }, /^resources.memory.request \(256Mi\) must not exceed resources.memory.limit \(128Mi\)$/],
    ['unknown issuer kind', { tls: { issuer: { name: 'ca', kind: 'ExternalIssuer' as IssuerKind } } }, /^tls.issuer.kind must be one of 'Issuer', 'ClusterIssuer'; got 'ExternalIssuer'$/],
    ['non-DNS issuer name', { tls: { issuer: { name: 'My CA' } } }, /^tls.issuer.name must be a DNS subdomain/],
    ['existing Secret with an issuer', { tls: { existingSecretName: 's', issuer: { name: 'ca' } } }, /^tls.existingSecretName cannot be combined with tls.issuer/],
    ['non-DNS existing Secret', { tls: { existingSecretName: 'My_Secret' } }, /^tls.existingSecretName must be a DNS subdomain/],
    ['renewBefore not below duration', { tls: { duration: Duration.days(10), renewBefore: Duration.days(10) } }, /^tls.renewBefore \(10 days\) must be shorter than tls.duration \(10 days\)$/],
    ['certificate duration in minutes', { tls: { duration: Duration.minutes(90) } }, /^tls.duration must be a whole number of hours/],
    ['PDB percentage above 100', { podDisruptionBudget: DisruptionBudget.maxUnavailable(kplus.PercentOrAbsolute.percent(150)) }, /^podDisruptionBudget.maxUnavailable must be PercentOrAbsolute/],
    ['a budget that blocks every drain', { podDisruptionBudget: DisruptionBudget.maxUnavailable(kplus.PercentOrAbsolute.absolute(0)) }, /^podDisruptionBudget.maxUnavailable must be .*\(0 blocks every node drain\); got 0$/],
    ['minAvailable, replaced by maxUnavailable', { podDisruptionBudget: { minAvailable: 1 } as never }, /^podDisruptionBudget.minAvailable is no longer supported: use DisruptionBudget.maxUnavailable/],
    ['false, the "no budget" of earlier releases', { podDisruptionBudget: false as never }, /^podDisruptionBudget must be DisruptionBudget.maxUnavailable\(\.\.\.\), DisruptionBudget.onePodAtATime\(\) or DisruptionBudget.none\(\); got false$/],
    ['a host with a scheme', { host: 'https://0.0.0.0' }, /^host must be an IP address or host name/],
    ['unknown egress policy', { egress: 'all' as never }, /^egress must be one of 'none', 'dns'; got 'all'$/],
    ['invalid Prometheus label value', { prometheusSelector: { podLabels: { app: 'bad value' } } }, /^prometheusSelector.podLabels\['app'\] must be usable as a label value/],
    ['an empty client list, which Kubernetes would read as every source', { allowedClients: [] }, /^allowedClients must list at least one client; leave it out to admit any source$/],
    ['invalid client label key', { allowedClients: [{ podLabels: { 'bad key!': 'x' } }] }, /^allowedClients\[0\].podLabels has an invalid label key 'bad key!' \(/],
    ['non-DNS ingress host', { ingress: { host: 'Keys Example' } }, /^ingress.host must be a DNS subdomain/],
    ['non-DNS cluster domain', { clusterDomain: 'cluster_local' }, /^clusterDomain must be a DNS subdomain/],
    ['non-DNS ingress class', { ingress: { host: 'keys.example.com', className: 'Bad Class' } }, /^ingress.className must be a DNS subdomain/],
    ['an ingress annotation key with a space', { ingress: { host: 'keys.example.com', annotations: { 'bad key!': 'x' } } }, /^ingress.annotations has an invalid annotation key 'bad key!'/],
    ['a namespace the system shares', { namespace: 'kube-system' }, /^namespace 'kube-system' is shared with the system, and createNamespace .* or set createNamespace: false$/],
    ['the default namespace', { namespace: 'default' }, /^namespace 'default' is shared with the system/],
    ['a negative CPU request', { resources: withCpu(kplus.Cpu.millis(-5), kplus.Cpu.units(1)) }, /^resources.cpu.request must be at least 1m .*; got -5m$/],
    ['a CPU limit that is not a number', { resources: withCpu(kplus.Cpu.millis(100), kplus.Cpu.millis(NaN)) }, /^resources.cpu.limit must be at least 1m .*; got NaNm$/],
    ['a memory limit in part of a MiB', { resources: { ...defaultKeyServerResources, memory: { request: Size.mebibytes(96), limit: Size.kibibytes(200_000) } } }, /^resources.memory.limit must be a whole number of MiB, at least 1; got 195.3125Mi$/],
    ['more replicas than Kubernetes counts', { scaling: KeyServerScaling.autoscale({ maxReplicas: 1e12 }) }, /^scaling.maxReplicas must be an integer between 1 and 2147483647; got 1000000000000$/],
  ])('refuses %s', (_, props, message) => {
    expect(build(props)).toThrow(message);
  });

  test('accepts a shared namespace it does not create', () => {
    expect(build({ namespace: 'default', createNamespace: false })).not.toThrow();
  });

  test('accepts the boundary values', () => {
    expect(build({ scaling: KeyServerScaling.fixedReplicas(0), podDisruptionBudget: DisruptionBudget.none(), minSize: 65536, maxSize: 65536, httpsPort: 65535, metricsPort: 1 })).not.toThrow();
  });
});
