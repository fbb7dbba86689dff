// Keys never appear in logs, metrics or error messages: every key served is searched for in everything else.
import * as http from 'node:http';
import { fetchText, mapConcurrently } from '../server/helpers/http';
import { makeTempDirectory } from '../server/helpers/tls';
import { compileServer, startServerProcess } from './helpers/compiled-server';

const FORMATS = ['hex', 'base64', 'base64url'] as const;

/** The key's bytes from a response body (text or JSON, any format). */
function keyBytes(body: string, format: (typeof FORMATS)[number], json: boolean): Buffer {
  const text = json ? (JSON.parse(body) as { key: string }).key : body;
  return Buffer.from(text, format === 'hex' ? 'hex' : 'base64');
}

describe('no key leaks', () => {
  it('finds none of the keys served, in any encoding, in stdout, stderr, /metrics or error answers', async () => {
    const { directory, remove } = makeTempDirectory();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
    try {
      const cliPath = compileServer(directory);
      // --access-log: the most the server ever writes per request.
      const server = await startServerProcess(cliPath, ['--access-log', '--metrics-port', '0', '--shutdown-delay', '0']);
      const keys = await mapConcurrently(3000, 20, async (index) => {
        const format = FORMATS[index % 3];
        const json = index % 2 === 0;
        // At least 12 bytes: a shorter key could turn up in other text by chance.
        const length = 12 + (index % 100);
        const response = await fetchText(`${server.url}/key/${length}?format=${format}`, {
          agent,
          headers: json ? { Accept: 'application/json' } : {},
        });
        expect(response.status).toBe(200);
        return keyBytes(response.body, format, json);
      });
      // Error answers, metrics and the rest of a run's output, all searched below.
      const answers: string[] = [];
      for (const path of ['/key/0', '/key/99999', '/key/16?format=hexx', '/nope', '/ready', '/health', '/metrics']) {
        answers.push((await fetchText(`${server.url}${path}`, { agent })).body);
      }
      answers.push((await fetchText(`${server.metricsUrl}/metrics`)).body);
      agent.destroy();
      server.child.kill('SIGTERM');
      const result = await server.exited;
      expect(result.code).toBe(0);

      const haystack = [server.output.stdout, server.output.stderr, ...answers].join('\n');
      const haystackLower = haystack.toLowerCase();
      const leaked = keys.filter((bytes) =>
        haystackLower.includes(bytes.toString('hex'))
        || haystack.includes(bytes.toString('base64').replace(/=+$/, ''))
        || haystack.includes(bytes.toString('base64url')),
      );
      const logLines = server.output.stdout.split('\n').filter((line) => line.startsWith('{')).length;
      console.log(
        `key leak search: ${keys.length} keys × 3 encodings searched in ${logLines} log lines, ${server.output.stderr.length} bytes of stderr, `
          + `${answers.length} metrics/error answers (${haystack.length} bytes): ${leaked.length} found`,
      );
      expect(logLines).toBeGreaterThanOrEqual(3000); // the access log did log every request
      expect(new Set(keys.map((bytes) => bytes.toString('hex'))).size).toBe(keys.length);
      expect(leaked).toEqual([]);
    } finally {
      agent.destroy();
      remove();
    }
  }, 60_000);
});
