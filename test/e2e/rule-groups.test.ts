// End to end: the standalone rule file exactly as dist/standalone/ ships it, loaded by the pinned Prometheus (3.13)
// under the emitted global block: every group loads, every rule is healthy once evaluated, and the long windows'
// group runs at its own slower interval while the others follow the global one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Testing } from 'cdk8s';
import { parse, stringify } from 'yaml';
import { buildStandalone } from '../../main';
import { longWindowEvaluationInterval } from '../../constructs/monitoring/rules/key-server-rules';
import { startPrometheus, type RunningPrometheus } from './prometheus';
import { waitFor } from './processes';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON here, as a cluster sees them */

function standaloneRuleFiles(): { global: any; files: Record<string, string> } {
  const app = Testing.app();
  buildStandalone(app, 'production');
  const objects = app.charts.flatMap((chart) => Testing.synth(chart));
  const configMap = (name: string) => objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === name);
  return {
    global: parse(configMap('prometheus-config').data['prometheus.yml']).global,
    files: configMap('prometheus-rules').data,
  };
}

/** Seconds of a Prometheus duration made of one unit (`15s`, `2m`). */
function seconds(duration: string): number {
  const match = /^(\d+)([sm])$/.exec(duration);
  if (match === null) throw new Error(`not a one-unit duration: ${duration}`);
  return Number(match[1]) * (match[2] === 'm' ? 60 : 1);
}

describe('the standalone rule file as shipped, in the pinned Prometheus', () => {
  const { global, files } = standaloneRuleFiles();
  const shipped = Object.entries(files).flatMap(([file, text]) => (parse(text).groups as any[]).map((group) => ({ file, ...group })));
  let directory: string;
  let prometheus: RunningPrometheus | undefined;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'key-server-rule-groups-'));
    prometheus = await startPrometheus({
      directory,
      // The emitted global block (its evaluation interval is what groups without their own follow); nothing scraped.
      config: stringify({ global, rule_files: Object.keys(files), scrape_configs: [] }),
      files,
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('ships a long-windows group with its own interval, and other groups without one', () => {
    const own = shipped.filter((group) => group.interval !== undefined);
    expect(own.map((group) => [group.name, group.interval])).toEqual([['key-server.recording.long-windows', longWindowEvaluationInterval]]);
    expect(own[0].rules.map((rule: any) => rule.record)).toEqual(expect.arrayContaining([
      expect.stringMatching(/:rate1d$/), expect.stringMatching(/:ratio_rate3d$/),
    ]));
    // Prometheus' default lookback is 5 m: two evaluations must fit in it, so one missed evaluation leaves a value.
    expect(seconds(longWindowEvaluationInterval) * 2).toBeLessThan(300);
  });

  it('loads every shipped group, each at its own interval or the global evaluation interval', async () => {
    const loaded = await prometheus!.ruleGroups();
    const intervalOf = (group: any) => seconds(group.interval ?? global.evaluation_interval);
    expect(loaded.map((group) => [group.name, group.interval]).sort())
      .toEqual(shipped.map((group) => [group.name, intervalOf(group)]).sort());
    expect(loaded.find((group) => group.name === 'key-server.recording.long-windows')?.interval).toBe(120);
    expect(loaded.find((group) => group.name === 'key-server.recording')?.interval).toBe(seconds(global.evaluation_interval));
  });

  it('evaluates the groups that follow the global interval without an error', async () => {
    await waitFor('one evaluation of every rule at the global interval', 45_000, async () => {
      const groups = (await prometheus!.ruleGroups()).filter((group) => group.interval === seconds(global.evaluation_interval));
      const rules = groups.flatMap((group) => group.rules);
      const failed = rules.filter((rule) => rule.health === 'err');
      if (failed.length > 0) throw new Error(failed.map((rule) => `${rule.name}: ${rule.lastError}`).join('\n'));
      return rules.every((rule) => rule.health === 'ok') || `${rules.filter((rule) => rule.health !== 'ok').length} rules not evaluated yet`;
    });
  }, 60_000);
});
