// Kernel arrival timestamps (SO_TIMESTAMPNS) placed on the monotonic clock of process.hrtime.
import { native, constants } from './native.js';
import type { Cmsg } from './sockaddr.js';

let offsetNs: bigint | null = null;
let offsetAt = 0;
const REFRESH_MS = 10_000; // follow NTP steps of the realtime clock

function offset(): bigint {
  const now = Date.now();
  if (offsetNs === null || now - offsetAt > REFRESH_MS) {
    offsetNs = native.clockOffsetNs();
    offsetAt = now;
  }
  return offsetNs;
}

/**
 * When the packet reached the socket, in monotonic ms (the daemon's clock), from an SCM_TIMESTAMPNS
 * cmsg (struct timespec: 64-bit sec, 64-bit nsec); null when absent. Timing a backup's
 * Master_Down_Timer from the arrival, not from when JavaScript got to it, keeps event-loop latency
 * out of the failover time.
 */
export function arrivalMs(cmsgs: readonly Cmsg[]): number | null {
  const c = constants();
  const ts = cmsgs.find((m) => m.level === c.SOL_SOCKET && m.type === c.SCM_TIMESTAMPNS);
  if (!ts || ts.data.length < 16) return null;
  const dv = new DataView(ts.data.buffer, ts.data.byteOffset, ts.data.byteLength);
  const real = dv.getBigInt64(0, true) * 1_000_000_000n + dv.getBigInt64(8, true);
  return Number(real - offset()) / 1e6;
}
