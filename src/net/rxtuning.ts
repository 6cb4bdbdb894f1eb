// Receive-side tuning of a VRRP socket: the kernel filter for our VRIDs, a receive buffer sized for bursts, the kernel's drop counter.
import { encodeFilter, vrrpFilter } from './bpf.js';
import { constants, native } from './native.js';

/** Requested receive buffer: room for ~4000 minimum-size adverts (the kernel doubles it for bookkeeping). */
export const VRRP_RCVBUF = 1 << 20;
/** <linux/sock_diag.h> SK_MEMINFO_DROPS: index of the drop counter in SO_MEMINFO's u32 array (fixed ABI). */
const SK_MEMINFO_DROPS = 8;
const SK_MEMINFO_VARS = 9;

/** Size the receive buffer: SO_RCVBUFFORCE (CAP_NET_ADMIN, beyond net.core.rmem_max), else SO_RCVBUF (capped there). */
export function sizeReceiveBuffer(fd: number, bytes = VRRP_RCVBUF): number {
  const c = constants();
  try {
    native.setsockopt(fd, c.SOL_SOCKET, c.SO_RCVBUFFORCE, bytes);
  } catch {
    native.setsockopt(fd, c.SOL_SOCKET, c.SO_RCVBUF, bytes);
  }
  return native.getsockoptInt(fd, c.SOL_SOCKET, c.SO_RCVBUF);
}

/** Attach (or replace) the classic BPF filter accepting adverts for these VRIDs only (net/bpf.ts says what passes). */
export function attachVridFilter(fd: number, family: 4 | 6, vrids: readonly number[]): void {
  native.attachFilter(fd, encodeFilter(vrrpFilter({ family, vrids })));
}

/**
 * Packets the kernel dropped for this socket because its receive queue was full (sk_drops, via
 * SO_MEMINFO). Packets the filter rejected are not in it: the kernel does not count those.
 */
export function socketDrops(fd: number): number {
  const c = constants();
  const b = native.getsockopt(fd, c.SOL_SOCKET, c.SO_MEMINFO, SK_MEMINFO_VARS * 4);
  return b.length >= (SK_MEMINFO_DROPS + 1) * 4 ? b.readUInt32LE(SK_MEMINFO_DROPS * 4) : 0;
}
