// The shortened soak (10 s at 50 connections); `npm run soak` runs the full 60 s at 100 connections.
import { formatSoakReport, runSoak, soakFailures, SOAK_BOUNDS, type SoakOptions } from './soak';

describe('soak (shortened)', () => {
  it('serves 10 s of keys at 50 connections with zero errors, RSS within 20 %, bounded event loop delay and exact metrics', async () => {
    const options: SoakOptions = { warmupSeconds: 3, durationSeconds: 10, connections: 50, maxRequests: 500_000 };
    const report = await runSoak(options);
    console.log(formatSoakReport(options, report));
    expect(report.load.sent).toBeGreaterThan(1000);
    expect(report.load.errorCount).toBe(0);
    expect(report.load.malformed).toBe(0);
    expect(report.load.statuses[200]).toBe(report.load.sent);
    expect(report.rssGrowth).toBeLessThanOrEqual(SOAK_BOUNDS.rssGrowth);
    expect(report.eventLoopDelayP99Seconds).toBeLessThanOrEqual(SOAK_BOUNDS.eventLoopDelayP99Seconds);
    expect(report.serverCountedRequests).toBe(report.load.sent);
    expect(report.serverCountedOk).toBe(report.load.sent);
    expect(report.exitCode).toBe(0);
    expect(soakFailures(report)).toEqual([]);
  }, 60_000);
});
