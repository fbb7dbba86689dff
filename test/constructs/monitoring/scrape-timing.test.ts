// Scrape timing: kube-prometheus-stack's 15 s / 10 s by default, and never a timeout as long as the interval.
import { Duration } from 'cdk8s';
import { defaultScrapeTiming, scrapeTiming } from '../../../constructs/monitoring/scrape-timing';

describe('scrapeTiming', () => {
  test('defaults to a scrape every 15 s that may take 10 s', () => {
    expect(scrapeTiming(undefined, undefined)).toEqual(defaultScrapeTiming);
    expect([defaultScrapeTiming.interval.toSeconds(), defaultScrapeTiming.timeout.toSeconds()]).toEqual([15, 10]);
  });

  test('takes either alone and checks the pair', () => {
    expect(scrapeTiming(Duration.seconds(30), undefined).timeout.toSeconds()).toBe(10);
    expect(() => scrapeTiming(undefined, Duration.seconds(15))).toThrow(/^scrapeTimeout \(15s\) must be shorter than scrapeInterval \(15s\)$/);
    expect(() => scrapeTiming(Duration.seconds(5), undefined)).toThrow(/^scrapeTimeout \(10s\) must be shorter than scrapeInterval \(5s\)$/);
  });
});
