// Timing that survives a busy box: real-time scheduling of every thread, locked memory, CPU affinity (keepalived
// vrrp_rt_priority, vrrp_no_swap, vrrp_cpu_affinity), through the addon's thin syscall wrappers.
import { readdirSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { constants, native } from '../net/native.js';

export interface SchedulingSettings {
  /** 1-99: SCHED_RR/SCHED_FIFO at this priority; 0: the normal scheduler. */
  realtimePriority: number;
  policy: 'rr' | 'fifo';
  /**
   * The daemon's code stays resident: every file-backed mapping (node, its libraries, the addon) and the stack locked
   * with mlock2(MLOCK_ONFAULT), so a page once used is never evicted. Not the JavaScript heap (see lockableMappings).
   */
  lockMemory: boolean;
  /** CPUs the process may run on; all when empty. */
  cpuAffinity: number[];
}

export interface SchedulingOutcome {
  realtime: { policy: string; priority: number; threads: number } | null;
  lockedMemory: boolean;
  /** Bytes of address space locked (on fault: what is resident counts, nothing is read in to lock it). */
  lockedBytes?: number;
  cpuAffinity: number[] | null;
  errors: string[];
}

/** A mapping of /proc/self/maps to lock: [start, end). */
export interface Mapping { start: bigint; end: bigint; path: string }

/**
 * The mappings keepalived's vrrp_no_swap would keep in memory that V8 lets us keep there: readable file-backed ones
 * (node's text and data, shared libraries, the addon) and the stack. Never anonymous memory: V8 returns freed heap
 * and code pages with madvise(MADV_DONTNEED), which the kernel refuses on locked memory (EINVAL), and Node aborts
 * (`Check failed: 0 == ret` in OS::SetPermissions, measured with mlockall). Keeping the heap out of swap is the
 * unit's MemorySwapMax=0. Devices, memfd and deleted files are left alone.
 */
export function lockableMappings(maps: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (!m || m[3]![0] !== 'r') continue;
    const path = m[4]!.trim();
    const file = path.startsWith('/') && !path.startsWith('/dev/') && !path.startsWith('/memfd:') && !path.endsWith('(deleted)');
    if (!file && path !== '[stack]') continue;
    out.push({ start: BigInt(`0x${m[1]!}`), end: BigInt(`0x${m[2]!}`), path });
  }
  return out;
}

/** Lock the mappings (on fault); returns the bytes locked. Throws the first refusal (ENOMEM/EPERM). */
function lockResident(): number {
  const c = constants();
  let bytes = 0n;
  for (const m of lockableMappings(readFileSync('/proc/self/maps', 'utf8'))) {
    native.mlock2(m.start, m.end - m.start, c.MLOCK_ONFAULT);
    bytes += m.end - m.start;
  }
  return Number(bytes);
}

/** Every thread of this process (the event loop, libuv's pool, V8's GC helpers): a GC helper left behind would be starved. */
function threadIds(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [0];
  }
}

/**
 * Apply the settings; never throws. A refusal (EPERM without CAP_SYS_NICE / LimitRTPRIO=, ENOMEM without
 * CAP_IPC_LOCK / LimitMEMLOCK=) is reported and the daemon runs on: timing is then best effort, as keepalived's is.
 * Threads created later inherit the policy from the thread that creates them.
 */
export function applyScheduling(s: SchedulingSettings, log: Logger): SchedulingOutcome {
  const out: SchedulingOutcome = { realtime: null, lockedMemory: false, cpuAffinity: null, errors: [] };
  const c = constants();
  const tids = threadIds();
  if (s.cpuAffinity.length > 0) {
    try {
      for (const t of tids) native.schedSetaffinity(t, s.cpuAffinity);
      out.cpuAffinity = [...s.cpuAffinity];
    } catch (e) {
      out.errors.push(`CPU affinity ${s.cpuAffinity.join(',')}: ${(e as Error).message}`);
    }
  }
  if (s.lockMemory) {
    try {
      out.lockedBytes = lockResident();
      out.lockedMemory = true;
    } catch (e) {
      out.errors.push(`memory lock: ${(e as Error).message} (CAP_IPC_LOCK, or LimitMEMLOCK=infinity in the unit)`);
    }
  }
  if (s.realtimePriority > 0) {
    // SCHED_RESET_ON_FORK: what the daemon starts (notify and track scripts, MISC_CHECKs, the config loader) runs
    // SCHED_OTHER at nice 0, never at the daemon's real-time priority (a looping script would starve the box).
    const policy = (s.policy === 'fifo' ? c.SCHED_FIFO : c.SCHED_RR) | c.SCHED_RESET_ON_FORK;
    let done = 0;
    try {
      for (const t of tids) {
        try {
          native.schedSetscheduler(t, policy, s.realtimePriority);
          done++;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e; // a thread that just ended
        }
      }
      out.realtime = { policy: s.policy === 'fifo' ? 'SCHED_FIFO' : 'SCHED_RR', priority: s.realtimePriority, threads: done };
    } catch (e) {
      out.errors.push(`real-time priority ${s.realtimePriority}: ${(e as Error).message} (CAP_SYS_NICE, or LimitRTPRIO= in the unit)`);
    }
  }
  if (out.errors.length) log.error({ errors: out.errors }, 'scheduling settings refused by the kernel: VRRP timing is best effort');
  if (out.realtime || out.lockedMemory || out.cpuAffinity) {
    log.info({ realtime: out.realtime, lockedMemory: out.lockedMemory, lockedBytes: out.lockedBytes, cpuAffinity: out.cpuAffinity }, 'scheduling');
  }
  return out;
}
