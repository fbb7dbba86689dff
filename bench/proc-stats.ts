// CPU time and memory of a child process, read from Linux /proc: the server's own figures, not the load generator's.
import { readFileSync, writeFileSync } from 'node:fs';

/** Clock ticks per second of utime/stime in /proc/<pid>/stat; 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU seconds a process has used so far. */
export function cpuSeconds(pid: number): number {
  return parseCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / CLOCK_TICKS_PER_SECOND;
}

/**
 * utime + stime from a /proc/<pid>/stat line. The command name (field 2) may contain spaces and parentheses,
 * so fields are counted from the last ')'.
 */
export function parseCpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3, so utime (field 14) and stime (field 15) are at 11 and 12.
  return Number(fields[11]) + Number(fields[12]);
}

/** Resident and peak resident memory in bytes. */
export interface MemoryUsage {
  readonly rssBytes: number;
  /** VmHWM: the peak since start or since the last {@link resetPeakMemory}. */
  readonly peakRssBytes: number;
}

export function memoryUsage(pid: number): MemoryUsage {
  return parseMemoryUsage(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

/** VmRSS and VmHWM (in kB in the file) from /proc/<pid>/status. */
export function parseMemoryUsage(status: string): MemoryUsage {
  const kilobytes = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (match === null) {
      throw new Error(`/proc status has no ${field} line`);
    }
    return Number(match[1]) * 1024;
  };
  return { rssBytes: kilobytes('VmRSS'), peakRssBytes: kilobytes('VmHWM') };
}

/**
 * Resets VmHWM to the current RSS (Linux ≥ 4.0, own processes), so each scenario's peak is its own and not the
 * peak of whatever ran before. Returns false where the kernel refuses; the peak is then the lifetime peak.
 */
export function resetPeakMemory(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
