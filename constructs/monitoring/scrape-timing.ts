// How often the key server is scraped and how long a scrape may take: the defaults and the one rule between them,
// shared by the ServiceMonitor, the standalone prometheus.yml and Grafana's rate interval.
import { Duration } from 'cdk8s';
import { promDuration, requireWholeSeconds } from './prometheus-duration';

/** Scrape interval and timeout, checked. */
export interface ScrapeTiming {
  readonly interval: Duration;
  readonly timeout: Duration;
}

/** Every 15 s, kube-prometheus-stack's default, with 10 s for one scrape. */
export const defaultScrapeTiming: ScrapeTiming = { interval: Duration.seconds(15), timeout: Duration.seconds(10) };

/** The timing with its defaults; a timeout must be shorter than the interval, or scrapes would overlap. */
export function scrapeTiming(interval: Duration | undefined, timeout: Duration | undefined): ScrapeTiming {
  const resolved = { interval: interval ?? defaultScrapeTiming.interval, timeout: timeout ?? defaultScrapeTiming.timeout };
  // Whole seconds: Grafana's rate interval and the rules' windows count in them.
  requireWholeSeconds('scrapeInterval', resolved.interval);
  requireWholeSeconds('scrapeTimeout', resolved.timeout);
  if (resolved.timeout.toMilliseconds() >= resolved.interval.toMilliseconds()) {
    throw new Error(`scrapeTimeout (${promDuration(resolved.timeout)}) must be shorter than scrapeInterval (${promDuration(resolved.interval)})`);
  }
  return resolved;
}
