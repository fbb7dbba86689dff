// Bearer tokens: file parsing, header parsing, hashed comparison, and reload that never locks everyone out.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bearerToken, createAuthenticator, parseTokenFile, tokenMatches, TokenFileError } from '../../server/auth';
import { makeTempDirectory, replaceFile } from './helpers/tls';

describe('parseTokenFile', () => {
  it.each([
    ['one\ntwo\n', 2],
    ['  padded  \r\n', 1],
    ['# comment\n\n\nonly\n', 1],
    ['', 0],
    ['# nothing but comments\n', 0],
  ])('reads %j as %i tokens', (text, count) => {
    expect(parseTokenFile(text)).toHaveLength(count);
  });

  it('keeps only 32-byte hashes, never the tokens themselves', () => {
    const hashes = parseTokenFile('secret-token\n');
    expect(hashes[0]).toHaveLength(32);
    expect(hashes[0].toString('latin1')).not.toContain('secret-token');
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['BEARER   abc  ', 'abc'],
    ['Basic YWJjOmRlZg==', undefined],
    ['Bearer ', undefined],
    ['Bearer', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('reads %j as %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});

describe('tokenMatches', () => {
  const hashes = parseTokenFile('alpha\nbeta\n');
  it.each([
    ['alpha', true],
    ['beta', true],
    ['alph', false],
    ['alphaa', false],
    ['ALPHA', false],
  ])('%j matches: %s', (token, expected) => {
    expect(tokenMatches(token, hashes)).toBe(expected);
  });
});

describe('createAuthenticator', () => {
  it('refuses a missing file and a file with no tokens at start, naming the file', () => {
    const { directory, remove } = makeTempDirectory();
    try {
      expect(() => createAuthenticator(join(directory, 'absent'))).toThrow(TokenFileError);
      const empty = join(directory, 'empty');
      writeFileSync(empty, '# no tokens yet\n');
      expect(() => createAuthenticator(empty)).toThrow(/empty.*holds no tokens/);
    } finally {
      remove();
    }
  });

  it('applies a changed file on reload, and keeps the previous tokens when the new file is unusable', async () => {
    const { directory, remove } = makeTempDirectory();
    const file = join(directory, 'tokens');
    writeFileSync(file, 'first\n');
    const failures: Error[] = [];
    const reloads: number[] = [];
    const authenticator = createAuthenticator(file, { onFailure: (error) => failures.push(error), onReload: (count) => reloads.push(count) });
    try {
      expect(authenticator.check('Bearer first')).toBe('ok');
      expect(authenticator.check(undefined)).toBe('missing');
      expect(authenticator.check('Bearer second')).toBe('invalid');

      replaceFile(file, 'second\nthird\n');
      expect(await authenticator.reload()).toBe('reloaded');
      expect(reloads).toEqual([2]);
      expect(authenticator.check('Bearer first')).toBe('invalid');
      expect(authenticator.check('Bearer third')).toBe('ok');

      replaceFile(file, '\n');
      expect(await authenticator.reload()).toBe('failed');
      expect(await authenticator.reload()).toBe('failed');
      expect(failures).toHaveLength(1); // one report per broken content, not one per poll
      expect(failures[0].message).not.toContain('third');
      expect(authenticator.check('Bearer second')).toBe('ok');
    } finally {
      authenticator.close();
      remove();
    }
  });
});
