// Content negotiation: which Accept headers get JSON.
import { prefersJson } from '../../server/routes';

describe('prefersJson', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['*/*', false],
    ['text/plain', false],
    ['application/json', true],
    ['Application/JSON', true],
    ['application/json, */*', true],
    ['application/json, text/plain', false],
    ['text/plain;q=0.5, application/json', true],
    ['application/json;q=0.5, text/plain', false],
    ['application/json;q=0', false],
    ['application/json;q=0.9, */*;q=0.1', true],
    ['text/*, application/json', true],
    ['application/jsonx', false],
  ])('answers %j with JSON: %s', (accept, expected) => {
    expect(prefersJson(accept)).toBe(expected);
  });
});
