// Runs the real promtool and amtool (the toolchain's, at the pinned versions) on data the constructs emit, in a fresh temp dir per call.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { RuleGroup } from '../../constructs/monitoring/rules/rule-types';
import { requireProgram } from '../../scripts/toolchain/build-tools';

/** Exit status and everything the tool printed, so a failing assertion shows why. */
export interface ToolResult {
  readonly status: number | null;
  readonly output: string;
}

/**
 * Writes `files` (name → contents, names may hold folders) into a temp dir, runs the toolchain's `program args…`
 * there, and removes the dir. `{dir}` in an argument or a file's contents becomes the temp dir's path.
 */
export function runInTempDir(program: 'promtool' | 'amtool', args: string[], files: Record<string, string>): ToolResult {
  const dir = mkdtempSync(join(tmpdir(), 'key-server-promtool-'));
  try {
    for (const [name, contents] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), contents.split('{dir}').join(dir));
    }
    const run = spawnSync(requireProgram(program), args.map((arg) => arg.split('{dir}').join(dir)), { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    if (run.error) {
      throw run.error;
    }
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `promtool check rules` on one rule file holding `groups`. */
export function checkRules(groups: readonly RuleGroup[]): ToolResult {
  return runInTempDir('promtool', ['check', 'rules', 'rules.yml'], { 'rules.yml': stringify({ groups }) });
}

/** One promtool unit test: input series, then alerts expected at given times (an empty list asserts silence). */
export interface RuleTest {
  readonly name: string;
  readonly interval: string;
  readonly inputSeries: ReadonlyArray<{ readonly series: string; readonly values: string }>;
  readonly alertRuleTests?: ReadonlyArray<{
    readonly evalTime: string;
    readonly alertname: string;
    readonly expAlerts: ReadonlyArray<{ readonly expLabels: Record<string, string>; readonly expAnnotations?: Record<string, string> }>;
  }>;
  readonly promqlExprTests?: ReadonlyArray<{
    readonly expr: string;
    readonly evalTime: string;
    readonly expSamples: ReadonlyArray<{ readonly labels: string; readonly value: number }>;
  }>;
}

/**
 * `promtool test rules` with `groups` as the rule file and `tests` as the test file. promtool compares
 * annotations exactly, so unless `compareAnnotations` is set they are dropped from the rules and the tests
 * assert which alerts fire with which labels; one test renders the annotations in full.
 */
export function testRules(groups: readonly RuleGroup[], tests: readonly RuleTest[], compareAnnotations = false): ToolResult {
  const ruleGroups = compareAnnotations ? groups : groups.map((group) => ({
    ...group,
    rules: group.rules.map((rule) => {
      if (!('annotations' in rule)) {
        return rule;
      }
      const { annotations: _dropped, ...rest } = rule;
      return rest;
    }),
  }));
  const testFile = {
    rule_files: ['rules.yml'],
    evaluation_interval: '1m',
    // Without it promtool evaluates groups in map order, so an alert reading a recorded series sometimes lags one
    // interval behind; recording groups come first, as they do in the rule file.
    group_eval_order: groups.map((group) => group.name),
    tests: tests.map((test) => ({
      name: test.name,
      interval: test.interval,
      input_series: test.inputSeries,
      alert_rule_test: (test.alertRuleTests ?? []).map((check) => ({
        eval_time: check.evalTime,
        alertname: check.alertname,
        exp_alerts: check.expAlerts.map((alert) => ({ exp_labels: alert.expLabels, ...(alert.expAnnotations ? { exp_annotations: alert.expAnnotations } : {}) })),
      })),
      promql_expr_test: (test.promqlExprTests ?? []).map((check) => ({
        expr: check.expr,
        eval_time: check.evalTime,
        exp_samples: check.expSamples,
      })),
    })),
  };
  return runInTempDir('promtool', ['test', 'rules', 'tests.yml'], {
    'rules.yml': stringify({ groups: ruleGroups }),
    'tests.yml': stringify(testFile),
  });
}
