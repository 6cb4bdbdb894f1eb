// Timing that survives a busy box: real-time scheduling of every thread, locked memory, CPU affinity (keepalived
// vrrp_rt_priority, vrrp_no_swap, vrrp_cpu_affinity), through the addon's thin syscall wrappers.
import { readdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { constants, native } from '../net/native.js';

export interface SchedulingSettings {
  /** 1-99: SCHED_RR/SCHED_FIFO at this priority; 0: the normal scheduler. */
  realtimePriority: number;
  policy: 'rr' | 'fifo';
  /** mlockall(MCL_CURRENT | MCL_FUTURE): no page of ours is swapped out or faulted in at a deadline. */
  lockMemory: boolean;
  /** CPUs the process may run on; all when empty. */
  cpuAffinity: number[];
}

export interface SchedulingOutcome {
  realtime: { policy: string; priority: number; threads: number } | null;
  lockedMemory: boolean;
  cpuAffinity: number[] | null;
  errors: string[];
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
      native.mlockall(c.MCL_CURRENT | c.MCL_FUTURE);
      out.lockedMemory = true;
    } catch (e) {
      out.errors.push(`mlockall: ${(e as Error).message} (CAP_IPC_LOCK, or LimitMEMLOCK=infinity in the unit)`);
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
    log.info({ realtime: out.realtime, lockedMemory: out.lockedMemory, cpuAffinity: out.cpuAffinity }, 'scheduling');
  }
  return out;
}
