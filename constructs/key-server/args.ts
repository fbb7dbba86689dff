// The key server container's args: the server's flags for the props KeyServerApp was given, in manifest order.
import type { Duration } from 'cdk8s';

/** The container args for the server, in the order they appear in the manifest. */
export function keyServerArgs(options: {
  httpsPort: number; metricsPort: number; host: string; maxSize: number; minSize: number;
  shutdownDelay: Duration; tlsCertFile: string; tlsKeyFile: string; accessLog: boolean;
  authTokenFile?: string; rateLimit?: { requestsPerSecond: number; burst: number };
}): string[] {
  const args = [
    '--host', options.host,
    '--srv-port', String(options.httpsPort),
    '--metrics-port', String(options.metricsPort),
    '--max-size', String(options.maxSize),
    '--min-size', String(options.minSize),
    // Milliseconds over 1000, so 2.5 s stays 2.5 instead of being rounded by Duration.toSeconds.
    '--shutdown-delay', String(options.shutdownDelay.toMilliseconds() / 1000),
    '--tls-cert', options.tlsCertFile,
    '--tls-key', options.tlsKeyFile,
  ];
  if (options.authTokenFile !== undefined) args.push('--auth-token-file', options.authTokenFile);
  if (options.rateLimit !== undefined) {
    args.push('--rate-limit', String(options.rateLimit.requestsPerSecond), '--rate-limit-burst', String(options.rateLimit.burst));
  }
  return options.accessLog ? [...args, '--access-log'] : args;
}
