// Every alert's runbook_url (from the rule builder and as synthesized into dist/) points at an existing section of
// docs/runbooks.md, and every section has what it means, how to look and how to fix.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultRunbookBaseUrl, keyServerAlertNames, keyServerRuleGroups } from '../../constructs/rules/key-server-rules';
import type { AlertingRule } from '../../constructs/rules/rule-types';
import { repoRoot } from './helpers/fake-kubectl';

/** The file a runbook URL names: the path after `/blob/<branch>/` of the GitHub URL. */
function repositoryFileOf(url: string): string {
  const match = /^https:\/\/github\.com\/[^/]+\/[^/]+\/blob\/[^/]+\/([^#]+)/.exec(url);
  if (match === null) throw new Error(`not a GitHub file URL: ${url}`);
  return match[1];
}

const runbookFile = repositoryFileOf(defaultRunbookBaseUrl);
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
const alertRules = keyServerRuleGroups({ target }).flatMap((group) => group.rules).filter((rule): rule is AlertingRule => 'alert' in rule);

/** Every runbook_url value in the synthesized manifests (PrometheusRule objects and standalone rule files). */
function synthesizedRunbookUrls(): string[] {
  const files = fs.readdirSync(path.join(repoRoot, 'dist'), { recursive: true }).map(String).filter((file) => file.endsWith('.yaml'));
  return files.flatMap((file) => [...fs.readFileSync(path.join(repoRoot, 'dist', file), 'utf8').matchAll(/runbook_url"?:\s*"?(https?:\/\/[^\s"\\]+)/g)].map((match) => match[1]));
}

describe('headingAnchors', () => {
  test('makes GitHub anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered, code ignored', () => {
    expect(headingAnchors('# KeyServerDown\n## Roll back\n```\n# not a heading\n```\n### Rotate a certificate!\n## Roll back\n'))
      .toEqual(['keyserverdown', 'roll-back', 'rotate-a-certificate', 'roll-back-1']);
  });
});

describe('docs/runbooks.md', () => {
  test('is the file the default runbook base URL names', () => {
    expect(runbookFile).toBe('docs/runbooks.md');
  });

  test.each(alertRules.map((rule) => [rule.alert, rule.annotations.runbook_url]))('%s links to an existing section (%s)', (_alert, url) => {
    const [base, anchor] = url.split('#');
    expect(base).toBe(defaultRunbookBaseUrl);
    expect(anchors.has(anchor)).toBe(true);
  });

  test('every alert the rules export has a rule with a runbook link', () => {
    expect(alertRules.map((rule) => rule.alert).sort()).toEqual([...keyServerAlertNames].sort());
  });

  test('every runbook_url synthesized into dist/ points at an existing section of this file', () => {
    const urls = synthesizedRunbookUrls();
    expect(urls.length).toBeGreaterThanOrEqual(keyServerAlertNames.length);
    for (const url of urls) {
      const [base, anchor] = url.split('#');
      expect({ url, file: repositoryFileOf(base), anchorExists: anchors.has(anchor) }).toEqual({ url, file: runbookFile, anchorExists: true });
    }
  });

  test.each([...keyServerAlertNames])('the %s section says what it means, how to look and how to fix', (alert) => {
    const text = section(alert);
    expect(text).toContain('**What it means.**');
    expect(text).toContain('**How to look.**');
    expect(text).toContain('**How to fix.**');
  });

  test('has the shared procedures: scale up, roll back, rotate a certificate, restore Prometheus data', () => {
    for (const anchor of ['scale-up', 'roll-back', 'rotate-a-certificate', 'restore-prometheus-data']) {
      expect(anchors.has(anchor)).toBe(true);
    }
  });

  test('every in-page link points at an existing heading', () => {
    const links = [...markdown.matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1]);
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
  });
});
