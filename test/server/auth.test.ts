// Bearer tokens: file parsing, header parsing, hashed comparison, and reload that fails closed when the tokens are gone.
import { unlinkSync, writeFileSync } from 'node:fs';
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

  it('applies a changed file on reload', async () => {
    const { directory, remove } = makeTempDirectory();
    const file = join(directory, 'tokens');
    writeFileSync(file, 'first\n');
    const reloads: number[] = [];
    const authenticator = createAuthenticator(file, { onReload: (count) => reloads.push(count) });
    try {
      expect(authenticator.check('Bearer first')).toBe('ok');
      expect(authenticator.check(undefined)).toBe('missing');
      expect(authenticator.check('Bearer second')).toBe('invalid');

      replaceFile(file, 'second\nthird\n');
      expect(await authenticator.reload()).toBe('reloaded');
      expect(reloads).toEqual([2]);
      expect(authenticator.tokenCount).toBe(2);
      expect(authenticator.check('Bearer first')).toBe('invalid');
      expect(authenticator.check('Bearer third')).toBe('ok');
    } finally {
      authenticator.close();
      remove();
    }
  });

  // Revocation fails closed (semantics changed on purpose: the previous tokens used to stay in force).
  it.each([
    ['emptied', (file: string) => replaceFile(file, '')],
    ['left with comments only', (file: string) => replaceFile(file, '# all revoked\n\n')],
    ['deleted', (file: string) => unlinkSync(file)],
  ])('refuses every token once the file is %s, reports it on every check (once as new), and accepts again when tokens return', async (_what, breakFile) => {
    const { directory, remove } = makeTempDirectory();
    const file = join(directory, 'tokens');
    writeFileSync(file, 'first\n');
    const failures: Array<{ error: Error; repeated: boolean }> = [];
    const authenticator = createAuthenticator(file, { onFailure: (error, repeated) => failures.push({ error, repeated }) });
    try {
      breakFile(file);
      expect(await authenticator.reload()).toBe('failed');
      expect(await authenticator.reload()).toBe('failed');
      expect(failures.map((failure) => failure.repeated)).toEqual([false, true]);
      expect(failures[0].error.message).toContain('every client is refused');
      expect(failures[0].error.message).not.toContain('first');
      expect(authenticator.tokenCount).toBe(0);
      expect(authenticator.check('Bearer first')).toBe('invalid');

      replaceFile(file, 'first\n');
      expect(await authenticator.reload()).toBe('reloaded');
      expect(authenticator.check('Bearer first')).toBe('ok');
    } finally {
      authenticator.close();
      remove();
    }
  });
});
