// The server as the Pod runs it: uid 65534, its code read-only, and, traced by strace, no file written or created.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchText, mapConcurrently } from '../server/helpers/http';
import { createTestCertificate, makeTempDirectory } from '../server/helpers/tls';
import { compileServer, dependencyClosure, startServerProcess } from './helpers/compiled-server';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

/** System calls that create, remove or change a file or its metadata; the server may make none of them. */
const MODIFYING_CALLS = [
  'creat', 'mkdir', 'mkdirat', 'rename', 'renameat', 'renameat2', 'unlink', 'unlinkat', 'rmdir', 'link', 'linkat',
  'symlink', 'symlinkat', 'chmod', 'fchmodat', 'chown', 'fchownat', 'lchown', 'truncate', 'mknodat', 'utimensat',
];
/** Flags that open a file for writing. */
const WRITE_FLAGS = /O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND/;

/** The node process strace started, read from /proc (bounded wait). */
async function tracedPid(stracePid: number): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const children = readFileSync(`/proc/${stracePid}/task/${stracePid}/children`, 'utf8').trim();
    if (children !== '') return Number(children.split(' ')[0]);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`strace (${stracePid}) started no child`);
}

describe('unprivileged, read-only run', () => {
  it(`serves keys as uid ${NOBODY} from a read-only copy and opens no file for writing (traced with strace)`, async () => {
    const { directory, remove } = makeTempDirectory('key-server-readonly-');
    try {
      const cliPath = compileServer(join(directory, 'app'));
      const certificate = createTestCertificate(directory);
      const traceFile = join(directory, 'trace.txt');
      if (isRoot) {
        // As the Secret volume with fsGroup 65534 does: the key readable by the server's group, nothing writable.
        chownSync(certificate.keyFile, 0, NOBODY);
        chmodSync(certificate.keyFile, 0o440);
        chmodSync(certificate.certFile, 0o444);
        chmodSync(directory, 0o755);
      }
      execFileSync('chmod', ['-R', 'a-w', join(directory, 'app')]);
      const server = await startServerProcess(
        cliPath,
        ['--metrics-port', '0', '--tls-cert', certificate.certFile, '--tls-key', certificate.keyFile, '--shutdown-delay', '0', '--access-log'],
        {
          // strace runs as root and drops the server to nobody (-u): the trace file is strace's, not the server's.
          wrapper: ['strace', '-f', '-qq', '-o', traceFile, '-e', `trace=open,openat,openat2,${MODIFYING_CALLS.join(',')}`, ...(isRoot ? ['-u', 'nobody'] : [])],
          spawnOptions: { cwd: join(directory, 'app') },
          exitTimeoutMs: 60_000,
        },
      );
      const pid = await tracedPid(server.child.pid as number);
      const uidLine = /^Uid:\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      const responses = await mapConcurrently(100, 10, () => fetchText(`${server.url}/key/32`, { ca: certificate.certPem, timeoutMs: 10_000 }));
      const metrics = await fetchText(`${server.metricsUrl}/metrics`, { ca: certificate.certPem });
      process.kill(pid, 'SIGTERM');
      const result = await server.exited;

      const trace = readFileSync(traceFile, 'utf8').split('\n').filter((line) => line !== '');
      const writeOpens = trace.filter((line) => /open/.test(line) && WRITE_FLAGS.test(line));
      const modifying = trace.filter((line) => MODIFYING_CALLS.some((call) => line.includes(` ${call}(`) || line.startsWith(`${call}(`)));
      console.log(
        `unprivileged: uid ${uidLine?.[1]}, ${responses.length} keys served, exit ${result.code}; strace saw ${trace.length} file calls, `
          + `${writeOpens.length} opens for writing, ${modifying.length} creating/changing calls`,
      );
      if (isRoot) expect(Number(uidLine?.[1])).toBe(NOBODY);
      expect(Number(uidLine?.[1])).not.toBe(0);
      expect(responses.every((response) => response.status === 200)).toBe(true);
      expect(metrics.status).toBe(200);
      expect(result.code).toBe(0);
      expect(server.output.stdout).toContain('"msg":"stopped"');
      expect(trace.length).toBeGreaterThan(10); // the trace did see the server read its code and certificate
      expect(trace.some((line) => line.includes(certificate.keyFile))).toBe(true);
      expect(writeOpens).toEqual([]);
      expect(modifying).toEqual([]);
    } finally {
      execFileSync('chmod', ['-R', 'u+w', directory]);
      remove();
    }
  }, 90_000);

  // Needs root to start a process as uid 65534 (as every machine of this project runs the tests).
  it(`runs as uid ${NOBODY} when the clone sits under a folder only its owner can open (mode 0700)`, async () => {
    // As a clone under /root or in a `mktemp -d` folder: the runtime dependencies the server is built from are out
    // of uid 65534's reach, so the compiled copy must carry its own.
    const { directory, remove } = makeTempDirectory('key-server-private-clone-');
    try {
      const privateClone = join(directory, 'private-clone');
      mkdirSync(privateClone, { mode: 0o700 });
      const nodeModules = join(privateClone, 'node_modules');
      for (const name of dependencyClosure(['prom-client'], join(__dirname, '..', '..', 'node_modules'))) {
        cpSync(join(__dirname, '..', '..', 'node_modules', name), join(nodeModules, name), { recursive: true });
      }
      const app = join(directory, 'app');
      const cliPath = compileServer(app, { nodeModules });
      const certificate = createTestCertificate(directory);
      chmodSync(certificate.keyFile, 0o444);
      chmodSync(directory, 0o755);
      execFileSync('chmod', ['-R', 'a+rX,a-w', app]);
      const server = await startServerProcess(
        cliPath,
        ['--tls-cert', certificate.certFile, '--tls-key', certificate.keyFile, '--shutdown-delay', '0'],
        { spawnOptions: { cwd: app, uid: NOBODY, gid: NOBODY } },
      );
      const response = await fetchText(`${server.url}/key/32`, { ca: certificate.certPem });
      server.child.kill('SIGTERM');
      const result = await server.exited;
      expect(response.status).toBe(200);
      expect(result.code).toBe(0);
    } finally {
      execFileSync('chmod', ['-R', 'u+w', directory]);
      remove();
    }
  }, 60_000);
});
