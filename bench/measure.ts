// One measured run: a scenario's load against one server process, with that process's CPU and memory around it.
import { cpuSeconds, memoryUsage, resetPeakMemory } from './proc-stats';
import { runLoad, type Generator, type LoadResult, type ServerProcess } from './processes';
import type { Scenario } from './scenarios';

/** The load generator's view plus the server's own cost. */
export interface Measurement extends LoadResult {
  /** Server CPU (user + system) seconds during the run. */
  readonly serverCpuSeconds: number;
  /** Server CPU seconds per 10,000 answered requests. */
  readonly cpuSecondsPer10k: number;
  /** Peak RSS during the run (VmHWM, reset before it where the kernel allows). */
  readonly peakRssBytes: number;
  /** RSS right after the run: compared across rounds, it shows growth. */
  readonly rssAfterBytes: number;
}

export async function measure(server: ServerProcess, scenario: Scenario, durationSeconds: number, generator: Generator): Promise<Measurement> {
  resetPeakMemory(server.pid);
  const cpuBefore = cpuSeconds(server.pid);
  const load = await runLoad({
    generator,
    url: server.url,
    connections: scenario.connections,
    durationSeconds,
    paths: scenario.paths,
    protocol: scenario.protocol,
    streams: scenario.streams,
  });
  const serverCpuSeconds = cpuSeconds(server.pid) - cpuBefore;
  const memory = memoryUsage(server.pid);
  return {
    ...load,
    serverCpuSeconds,
    cpuSecondsPer10k: load.requests > 0 ? (serverCpuSeconds / load.requests) * 10_000 : Number.NaN,
    peakRssBytes: memory.peakRssBytes,
    rssAfterBytes: memory.rssBytes,
  };
}
