// Rule shapes and the runbook document every alert links to.
import { isAlertingRule, validatedRunbookBaseUrl } from '../../../../constructs/monitoring/rules/rule-types';

describe('rule types', () => {
  test('tell alerts from recording rules', () => {
    expect(isAlertingRule({ record: 'r', expr: '1' })).toBe(false);
    expect(isAlertingRule({ alert: 'A', expr: '1', for: '1m', labels: { severity: 'warning' }, annotations: { summary: '', description: '', runbook_url: '' } })).toBe(true);
  });

  test.each<[string | undefined, RegExp]>([
    [undefined, /^runbookBaseUrl is required: the URL of docs\/runbooks.md/],
    ['', /^runbookBaseUrl is required/],
    ['docs/runbooks.md', /^runbookBaseUrl must be an http\(s\) URL without a #fragment/],
    ['https://example.com/runbooks.md#top', /^runbookBaseUrl must be an http\(s\) URL without a #fragment/],
  ])('refuse the runbook document %j, naming the option', (url, message) => {
    expect(() => validatedRunbookBaseUrl(url)).toThrow(message);
  });

  test('accept an http(s) URL, to which each alert appends its anchor', () => {
    expect(validatedRunbookBaseUrl('https://github.com/acme/key-server/blob/main/docs/runbooks.md')).toBe('https://github.com/acme/key-server/blob/main/docs/runbooks.md');
  });
});
