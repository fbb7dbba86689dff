// Every alert's runbook_url (from the rule builder and as synthesized into dist/) points at an existing section of
// docs/runbooks.md, and every section has what it means, how to look and how to fix.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { keyServerAlertNames, keyServerRuleGroups } from '../../constructs/monitoring/rules/key-server-rules';
import { metaMonitoringAlertNames, metaMonitoringRuleGroups } from '../../constructs/monitoring/rules/meta-monitoring-rules';
import type { AlertingRule } from '../../constructs/monitoring/rules/rule-types';
import { repository, runbookBaseUrl } from '../../main';
import { repoRoot } from './helpers/fake-kubectl';

/** The file a runbook URL names: the path after `/blob/<branch>/` of the GitHub URL. */
function repositoryFileOf(url: string): string {
  const match = /^https:\/\/github\.com\/[^/]+\/[^/]+\/blob\/[^/]+\/([^#]+)/.exec(url);
  if (match === null) throw new Error(`not a GitHub file URL: ${url}`);
  return match[1];
}

const runbookFile = repositoryFileOf(runbookBaseUrl);
const markdown = fs.readFileSync(path.join(repoRoot, runbookFile), 'utf8');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function headingAnchors(text: string): string[] {
  const anchors: string[] = [];
  let inFence = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (inFence || heading === null) continue;
    const base = heading[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const repeats = anchors.filter((anchor) => anchor === base || anchor.startsWith(`${base}-`) && /^\d+$/.test(anchor.slice(base.length + 1))).length;
    anchors.push(repeats === 0 ? base : `${base}-${repeats}`);
  }
  return anchors;
}

/** The text of the `## <name>` section, up to the next heading of level 2. */
function section(name: string): string {
  const start = markdown.indexOf(`\n## ${name}\n`);
  if (start < 0) return '';
  const next = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, next < 0 ? undefined : next);
}

const anchors = new Set(headingAnchors(markdown));
const target = { namespace: 'key-server', job: 'key-server', deployment: 'key-server', container: 'key-server' };
const alertRules = [
  ...keyServerRuleGroups({ target, runbookBaseUrl }),
  ...metaMonitoringRuleGroups({ prometheusJob: 'prometheus', alertmanagerJob: 'alertmanager', runbookBaseUrl }),
].flatMap((group) => group.rules).filter((rule): rule is AlertingRule => 'alert' in rule);
const allAlertNames = [...keyServerAlertNames, ...metaMonitoringAlertNames];

/** Every runbook_url value in the synthesized manifests (PrometheusRule objects and standalone rule files). */
function synthesizedRunbookUrls(): string[] {
  const files = fs.readdirSync(path.join(repoRoot, 'dist'), { recursive: true }).map(String).filter((file) => file.endsWith('.yaml'));
  return files.flatMap((file) => [...fs.readFileSync(path.join(repoRoot, 'dist', file), 'utf8').matchAll(/runbook_url"?:\s*"?(https?:\/\/[^\s"\\]+)/g)].map((match) => match[1]));
}

/** kubectl verbs that change an object in place, and the kinds of `dist/` (in Git) they may target. */
const mutatingVerb = /\b(?:k|kubectl)\s+(?:-n\s+\S+\s+)?(patch|edit|scale|set\s+\w+|annotate|label|replace|rollout\s+undo|delete)\s+(\S+)/;
const gitOwnedKinds = /^(hpa|horizontalpodautoscaler|deploy|deployment|statefulset|sts|service|svc|configmap|cm|networkpolicy|pdb|poddisruptionbudget|servicemonitor|prometheusrule|certificate|issuer|namespace|ns)([/.]|$)/;

/**
 * Every command in `text` (fenced or inline code) that changes an object kept in Git, with its section (### or ##
 * heading) and whether that section suspends the sync (`flux suspend`) or links to the procedure that does.
 */
function gitOpsOwnedChanges(text: string): Array<{ section: string; command: string; guarded: boolean }> {
  const found: Array<{ section: string; command: string; guarded: boolean }> = [];
  for (const part of text.split(/\n(?=#{2,3} )/)) {
    const section = /^#{2,3} (.*)/.exec(part)?.[1] ?? '(top)';
    const guarded = part.includes('flux suspend') || part.includes('(#act-by-hand-under-gitops)');
    const commands = [...part.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].flatMap((block) => block[1].split('\n'))
      .concat([...part.replace(/```[\s\S]*?```/g, '').matchAll(/`([^`\n]+)`/g)].map((inline) => inline[1]));
    for (const command of commands) {
      const match = mutatingVerb.exec(command);
      if (match !== null && gitOwnedKinds.test(match[2])) found.push({ section, command: command.replace(/\s+#.*$/, '').trim(), guarded });
    }
  }
  return found;
}

describe('headingAnchors', () => {
  test('makes GitHub anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered, code ignored', () => {
    expect(headingAnchors('# KeyServerDown\n## Roll back\n```\n# not a heading\n```\n### Rotate a certificate!\n## Roll back\n'))
      .toEqual(['keyserverdown', 'roll-back', 'rotate-a-certificate', 'roll-back-1']);
  });
});

describe('docs/runbooks.md', () => {
  test('is the file the runbook base URL names, in the repository main.ts names', () => {
    expect(runbookFile).toBe('docs/runbooks.md');
    expect(runbookBaseUrl.startsWith(`${repository.url}/blob/${repository.branch}/`)).toBe(true);
  });

  test.each(alertRules.map((rule) => [rule.alert, rule.annotations.runbook_url]))('%s links to an existing section (%s)', (_alert, url) => {
    const [base, anchor] = url.split('#');
    expect(base).toBe(runbookBaseUrl);
    expect(anchors.has(anchor)).toBe(true);
  });

  test('every alert the rules export has a rule with a runbook link', () => {
    expect(alertRules.map((rule) => rule.alert).sort()).toEqual([...allAlertNames].sort());
  });

  test('every runbook_url synthesized into dist/ points at an existing section of this file', () => {
    const urls = synthesizedRunbookUrls();
    expect(urls.length).toBeGreaterThanOrEqual(allAlertNames.length);
    for (const url of urls) {
      const [base, anchor] = url.split('#');
      expect({ url, file: repositoryFileOf(base), anchorExists: anchors.has(anchor) }).toEqual({ url, file: runbookFile, anchorExists: true });
    }
  });

  test.each(allAlertNames)('the %s section says what it means, how to look and how to fix', (alert) => {
    const text = section(alert);
    expect(text).toContain('**What it means.**');
    expect(text).toContain('**How to look.**');
    expect(text).toContain('**How to fix.**');
  });

  test('has the shared procedures: scale up, roll back, act by hand under GitOps, rotate a certificate, change monitoring storage, restore Prometheus data', () => {
    for (const anchor of ['scale-up', 'roll-back', 'act-by-hand-under-gitops', 'rotate-a-certificate', 'change-monitoring-storage', 'restore-prometheus-data']) {
      expect(anchors.has(anchor)).toBe(true);
    }
  });

  test('changes objects GitOps owns by hand only where the section first suspends the sync or sends the reader to do so', () => {
    const changes = gitOpsOwnedChanges(markdown);
    expect(changes.length).toBeGreaterThan(3);
    expect(changes.filter((change) => !change.guarded).map((change) => `${change.section}: ${change.command}`)).toEqual([]);
  });

  test('the GitOps check catches a bare kubectl patch of the autoscaler (negative control)', () => {
    expect(gitOpsOwnedChanges('## Scale up\n\n```sh\nk patch hpa key-server -p x\n```\n')).toEqual([{ section: 'Scale up', command: 'k patch hpa key-server -p x', guarded: false }]);
  });

  test('every in-page link points at an existing heading', () => {
    const links = [...markdown.matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1]);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
  });
});
