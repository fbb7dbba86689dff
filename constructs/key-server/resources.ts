// The key server container's CPU and memory, and what follows from them: V8's heap ceiling (NODE_OPTIONS) and the
// limits the resource alerts compare usage with. Each figure is derived here, once.
import { Size, SizeRoundingBehavior } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';

/**
 * Requests and limits unless a KeyServerApp is told otherwise, from `npm run bench` and the probe measurements in
 * docs/architecture.md ("Capacity"):
 * - memory: idle RSS is 54 MiB; /key/1024 at 50 connections peaks at 68 MiB; /key/65536 (the server's largest) at
 *   200 connections peaks at 164 MiB with the heap ceiling below (239 MiB without it). The limit is set by what a
 *   hostile client can force: 1,000 clients each pipelining 400 `/key/1024` requests and reconnecting as they are
 *   closed keep about 100 MB of Node's request objects alive (Node parses a whole TLS record before any handler
 *   runs). A 96 MiB heap (a 192Mi limit) ran out in 2 of 6 runs and V8 aborted; a 128 MiB heap never did in 10,
 *   peaking at 159 to 175 MiB of RSS, which only a 256Mi limit holds. The request stays at the 96Mi a busy pod uses.
 * - CPU: a 100m request keeps scheduling and the autoscaler honest (it scales at 70 % of it); the 1-core limit is what
 *   one Node event loop can use. At 200m the kernel throttled a busy pod for 80 ms of every 100 ms and a kubelet
 *   probe's TLS handshake took over 2 s, which restarted pods exactly when they were busiest.
 */
export const defaultKeyServerResources: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.units(1) },
  memory: { request: Size.mebibytes(96), limit: Size.mebibytes(256) },
};

/** The smallest memory limit the server is allowed: its idle RSS plus a heap that can hold a burst of large keys. */
export const minimumMemoryLimit = Size.mebibytes(128);

/** Share of the memory limit V8's old generation may fill; the rest is native memory V8 does not manage. */
const heapShareOfLimit = 0.5;

/** The container's limits as numbers, for the alerts that compare usage with them. */
export interface ContainerLimits {
  /** CPU limit in cores (`0.2` for 200m). */
  readonly cpuCores: number;
  /** Memory limit in bytes. */
  readonly memoryBytes: number;
}

/** Cores of a cdk8s-plus Cpu amount ('250m' or '1.5'). */
export function cpuCores(cpu: kplus.Cpu): number {
  const amount = String(cpu.amount);
  return amount.endsWith('m') ? Number(amount.slice(0, -1)) / 1000 : Number(amount);
}

/** The limits of validated resources (both are required there). */
export function containerLimitsOf(resources: kplus.ContainerResources): ContainerLimits {
  return {
    cpuCores: cpuCores(resources.cpu!.limit!),
    memoryBytes: resources.memory!.limit!.toKibibytes({ rounding: SizeRoundingBehavior.NONE }) * 1024,
  };
}

/** Throws unless both limits are positive and finite (an infinite one would give an alert that can never fire). */
export function validatedContainerLimits(prop: string, limits: ContainerLimits): ContainerLimits {
  const { cpuCores: cores, memoryBytes } = limits;
  if (!(cores > 0 && Number.isFinite(cores)) || !(memoryBytes > 0 && Number.isFinite(memoryBytes))) {
    throw new Error(`${prop} must be positive and finite; got ${cores} cores and ${memoryBytes} bytes`);
  }
  return limits;
}

/** The limits of {@link defaultKeyServerResources}. */
export const defaultContainerLimits: ContainerLimits = containerLimitsOf(defaultKeyServerResources);

/**
 * V8's old-generation ceiling for a memory limit: half of it. V8 sizes its heap from the machine's memory, not the
 * cgroup's, so without a ceiling the heap grows past the limit and the kernel kills the pod before V8 collects;
 * with it, V8 collects harder as it nears the ceiling. The other half is what V8 does not manage: the binary and
 * code, the young generation (3 x the image's 4 MiB semi-space), and TLS and socket buffers, which grow with
 * connections (about 95 MiB at 200 connections of 64 KiB keys).
 */
export function maxOldSpaceMebibytes(memoryLimit: Size): number {
  return Math.floor(memoryLimit.toMebibytes({ rounding: SizeRoundingBehavior.FLOOR }) * heapShareOfLimit);
}

/**
 * The container's `NODE_OPTIONS`, which node reads before the image's ENTRYPOINT flags (`--max-semi-space-size=4`
 * stays there: it does not depend on the limit).
 */
export function nodeOptionsFor(memoryLimit: Size): string {
  return `--max-old-space-size=${maxOldSpaceMebibytes(memoryLimit)}`;
}

/** Requests and limits for both CPU and memory, each request within its limit: the scheduler and the OOM killer need all four. */
export function validatedResources(resources: kplus.ContainerResources): kplus.ContainerResources {
  const cpu = resources.cpu;
  const memory = resources.memory;
  if (cpu?.request === undefined || cpu.limit === undefined || memory?.request === undefined || memory.limit === undefined) {
    throw new Error('resources must set cpu.request, cpu.limit, memory.request and memory.limit');
  }
  for (const [prop, amount] of [['resources.cpu.request', cpu.request], ['resources.cpu.limit', cpu.limit]] as const) {
    const cores = cpuCores(amount);
    // Kubernetes keeps a thousandth of a core at most; less, and a request rounds to nothing.
    if (!Number.isFinite(cores) || cores < 0.001) throw new Error(`${prop} must be at least 1m (a thousandth of a core); got ${amount.amount}`);
  }
  for (const [prop, size] of [['resources.memory.request', memory.request], ['resources.memory.limit', memory.limit]] as const) {
    const mebibytes = size.toMebibytes({ rounding: SizeRoundingBehavior.NONE });
    // Whole MiB: the manifest writes `<n>Mi`, and V8's heap ceiling is derived in MiB.
    if (!Number.isInteger(mebibytes) || mebibytes < 1) throw new Error(`${prop} must be a whole number of MiB, at least 1; got ${mebibytes}Mi`);
  }
  if (cpuCores(cpu.request) > cpuCores(cpu.limit)) {
    throw new Error(`resources.cpu.request (${cpu.request.amount}) must not exceed resources.cpu.limit (${cpu.limit.amount})`);
  }
  if (memory.request.toKibibytes() > memory.limit.toKibibytes()) {
    throw new Error(`resources.memory.request (${memory.request.toMebibytes()}Mi) must not exceed resources.memory.limit (${memory.limit.toMebibytes()}Mi)`);
  }
  if (memory.limit.toKibibytes() < minimumMemoryLimit.toKibibytes()) {
    throw new Error(`resources.memory.limit must be at least ${minimumMemoryLimit.toMebibytes()}Mi (idle RSS is 54 MiB, and half the limit is V8's heap); got ${memory.limit.toMebibytes()}Mi`);
  }
  return resources;
}
