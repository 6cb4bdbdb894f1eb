// Loads the vrrpd_native addon (build/Release/vrrpd_native.node, a thin syscall shim) and types its exports.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Numeric constants read from the C headers at build time. */
export interface NativeConstants {
  readonly AF_INET: number;
  readonly AF_INET6: number;
  readonly AF_PACKET: number;
  readonly AF_NETLINK: number;
  readonly SOCK_RAW: number;
  readonly SOCK_DGRAM: number;
  readonly IPPROTO_IP: number;
  readonly IPPROTO_IPV6: number;
  readonly IPPROTO_ICMPV6: number;
  readonly SOL_SOCKET: number;
  readonly SO_BINDTODEVICE: number;
  readonly SO_RCVBUF: number;
  readonly SO_SNDBUF: number;
  readonly SO_PRIORITY: number;
  readonly SO_TIMESTAMPNS: number;
  readonly SCM_TIMESTAMPNS: number;
  readonly SO_RCVBUFFORCE: number;
  readonly SO_MEMINFO: number;
  readonly IP_HDRINCL: number;
  /** Also the cmsg type of a received TTL (IP_RECVTTL). */
  readonly IP_TTL: number;
  readonly IP_TOS: number;
  readonly IP_MULTICAST_TTL: number;
  readonly IP_MULTICAST_LOOP: number;
  readonly IP_MULTICAST_IF: number;
  readonly IP_MULTICAST_ALL: number;
  readonly IP_ADD_MEMBERSHIP: number;
  readonly IP_DROP_MEMBERSHIP: number;
  readonly IP_PKTINFO: number;
  readonly IP_RECVTTL: number;
  readonly IPV6_MULTICAST_HOPS: number;
  readonly IPV6_UNICAST_HOPS: number;
  readonly IPV6_MULTICAST_LOOP: number;
  readonly IPV6_MULTICAST_IF: number;
  readonly IPV6_JOIN_GROUP: number;
  readonly IPV6_LEAVE_GROUP: number;
  readonly IPV6_ADD_MEMBERSHIP: number;
  readonly IPV6_DROP_MEMBERSHIP: number;
  readonly IPV6_RECVHOPLIMIT: number;
  readonly IPV6_HOPLIMIT: number;
  readonly IPV6_RECVPKTINFO: number;
  readonly IPV6_PKTINFO: number;
  readonly IPV6_CHECKSUM: number;
  readonly IPV6_V6ONLY: number;
  readonly NETLINK_ROUTE: number;
  readonly NETLINK_GENERIC: number;
  readonly SOL_NETLINK: number;
  readonly NETLINK_ADD_MEMBERSHIP: number;
  readonly NETLINK_EXT_ACK: number;
  readonly NETLINK_CAP_ACK: number;
  readonly MSG_DONTWAIT: number;
  readonly MSG_TRUNC: number;
  readonly MSG_CTRUNC: number;
  readonly MSG_DONTROUTE: number;
  readonly ETH_P_ARP: number;
  readonly ETH_P_IP: number;
  readonly ETH_P_IPV6: number;
  readonly ETH_P_ALL: number;
  readonly CLONE_NEWNET: number;
  readonly AF_UNIX: number;
  readonly SCHED_OTHER: number;
  readonly SCHED_FIFO: number;
  readonly SCHED_RR: number;
  readonly SCHED_RESET_ON_FORK: number;
  readonly MCL_CURRENT: number;
  readonly MCL_FUTURE: number;
  readonly MLOCK_ONFAULT: number;
  /** Width of cmsg_len (struct cmsghdr starts with a size_t): the cmsg layout depends on it. */
  readonly sizeof_size_t: number;
}

/** One received datagram: only the bytes actually received; `flags` is msg_flags (MSG_TRUNC, MSG_CTRUNC). */
export interface RecvResult {
  data: Buffer;
  addr: Buffer;
  control: Buffer;
  flags: number;
}

export interface PollHandle {
  /** Stops watching the fd; idempotent. Call before closing the fd. */
  stop(): void;
}

/** An error thrown by the addon: message "syscall CODE: text", errno negative (libuv style). */
export interface NativeError extends Error {
  errno: number;
  code: string;
  syscall: string;
}

export interface NativeAddon {
  /** socket(2) with SOCK_NONBLOCK | SOCK_CLOEXEC added; returns the fd. */
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, sockaddr: Uint8Array): void;
  /** A number is passed as a C int. */
  setsockopt(fd: number, level: number, name: number, value: number | Uint8Array): void;
  getsockoptInt(fd: number, level: number, name: number): number;
  /** getsockopt(2) with a buffer of maxLen bytes; returns the bytes the kernel wrote (e.g. SO_MEMINFO). */
  getsockopt(fd: number, level: number, name: number, maxLen: number): Buffer;
  /** SO_ATTACH_FILTER: a classic BPF program, 8-byte struct sock_filter records (net/bpf.ts builds them). */
  attachFilter(fd: number, program: Uint8Array): void;
  /** Returns the number of bytes sent. */
  sendmsg(fd: number, data: Uint8Array, sockaddr: Uint8Array | null, control: Uint8Array | null, flags: number): number;
  /** null when nothing is waiting (EAGAIN). */
  recvmsg(fd: number, maxData: number, maxControl: number, flags: number): RecvResult | null;
  /**
   * recvmmsg(2), MSG_DONTWAIT: up to `max` (≤ 64) datagrams, message i into slot i of `data`, `names`, `control`;
   * meta[4i..4i+3] = [length, name length, control length, msg_flags]. Returns the count, 0 when nothing waits.
   */
  recvmmsg(fd: number, data: Uint8Array, slot: number, names: Uint8Array, nameSlot: number, control: Uint8Array, controlSlot: number,
    meta: Int32Array, max: number, flags: number): number;
  /** Calls back (on the Node event loop, never blocking it) each time the fd is readable. */
  poll(fd: number, callback: (err: NativeError | null) => void): PollHandle;
  close(fd: number): void;
  /** setns(2) for the calling (main) thread; nstype e.g. constants.CLONE_NEWNET. */
  setns(fd: number, nstype: number): void;
  /** if_nametoindex(3); throws ENODEV when there is no such interface. */
  ifNameToIndex(name: string): number;
  /** timerfd_create(CLOCK_MONOTONIC) — the clock of process.hrtime — non-blocking. */
  timerfdCreate(): number;
  /** Arm for an absolute CLOCK_MONOTONIC time in ms (fractional); <= 0 disarms. */
  timerfdSet(fd: number, absMs: number): void;
  /** Expirations since the last read; 0 when none. */
  timerfdRead(fd: number): number;
  /** CLOCK_REALTIME - CLOCK_MONOTONIC in ns: places SO_TIMESTAMPNS arrivals on process.hrtime's clock. */
  clockOffsetNs(): bigint;
  /** sched_setscheduler(2) of a thread id (0: the calling thread). */
  schedSetscheduler(tid: number, policy: number, priority: number): void;
  /** [policy, priority] of a thread id. */
  schedGetscheduler(tid: number): [number, number];
  /** sched_setaffinity(2) of a thread id to the CPUs listed. */
  schedSetaffinity(tid: number, cpus: readonly number[]): void;
  /** mlockall(2); flags from constants.MCL_*. */
  mlockall(flags: number): void;
  /** mlock2(2) of [start, start + length); flags from constants.MLOCK_*. */
  mlock2(start: bigint, length: bigint, flags: number): void;
  readonly constants: NativeConstants;
}

const ADDON = join('build', 'Release', 'vrrpd_native.node');

/** The package root: the nearest directory above this module holding package.json (src/net or dist/net). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`vrrpd: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

let loaded: NativeAddon | undefined;

/** Loads the addon once; throws with a hint when it has not been built. */
export function loadNative(): NativeAddon {
  if (loaded) return loaded;
  const path = join(packageRoot(), ADDON);
  try {
    loaded = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (cause) {
    throw new Error(`vrrpd: cannot load the native addon ${path} (built by npm ci, or npx node-gyp rebuild)`, { cause });
  }
  return loaded;
}

const KEYS = [
  'socket', 'bind', 'setsockopt', 'getsockoptInt', 'getsockopt', 'attachFilter', 'sendmsg', 'recvmsg', 'recvmmsg', 'poll', 'close', 'setns', 'ifNameToIndex',
  'timerfdCreate', 'timerfdSet', 'timerfdRead', 'clockOffsetNs', 'schedSetscheduler', 'schedGetscheduler',
  'schedSetaffinity', 'mlockall', 'mlock2', 'constants',
] as const satisfies ReadonlyArray<keyof NativeAddon>;

/** The addon, loaded on first use (so modules that merely import this one work without it). */
export const native: NativeAddon = Object.freeze(Object.defineProperties({}, Object.fromEntries(
  KEYS.map((k) => [k, { get: () => loadNative()[k], enumerable: true }]),
))) as NativeAddon;

/** The addon's constants (loads the addon). */
export function constants(): NativeConstants {
  return loadNative().constants;
}

/** True when the error came from the addon's syscall wrappers (or Node's own). */
export function isNativeError(e: unknown): e is NativeError {
  return e instanceof Error && typeof (e as Partial<NativeError>).errno === 'number' &&
    typeof (e as Partial<NativeError>).code === 'string' && typeof (e as Partial<NativeError>).syscall === 'string';
}

/**
 * Watch an fd for readability, surviving socket errors: libuv stops a poll whose fd reported one,
 * so the error is handed to onError and the watch is re-armed on the next loop turn.
 */
export function watchReadable(fd: number, onReadable: () => void, onError: (e: NativeError) => void): PollHandle {
  let handle: PollHandle | null = null;
  let stopped = false;
  const arm = () => {
    handle = native.poll(fd, (err) => {
      if (stopped) return;
      if (!err) return onReadable();
      handle?.stop();
      setImmediate(() => { if (!stopped) arm(); });
      onError(err);
    });
  };
  arm();
  return { stop: () => { stopped = true; handle?.stop(); handle = null; } };
}
