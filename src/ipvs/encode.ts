// IPVS request encoder, pure: one writer per IPVS object (service, destination, sync daemon, config), per
// linux/uapi/linux/ip_vs.h and net/netfilter/ipvs/ip_vs_ctl.c (ip_vs_*_policy); the bytes equal ipvsadm's (libipvs).
import { HOST_LE, NLA_F_NESTED } from '../net/nlmsg.js';
import { addressToBytes, type Family } from '../protocol/addr.js';
import {
  IPVS_CMD_NEW_SERVICE, IPVS_CMD_SET_SERVICE, IPVS_CMD_DEL_SERVICE, IPVS_CMD_GET_SERVICE, IPVS_CMD_NEW_DEST,
  IPVS_CMD_SET_DEST, IPVS_CMD_DEL_DEST, IPVS_CMD_NEW_DAEMON, IPVS_CMD_DEL_DAEMON, IPVS_CMD_GET_DAEMON,
  IPVS_CMD_GET_INFO, IPVS_CMD_ZERO, IPVS_CMD_FLUSH, IPVS_CMD_SET_CONFIG, IPVS_CMD_GET_CONFIG, IPVS_CMD_GET_DEST,
  IPVS_CMD_ATTR_SERVICE, IPVS_CMD_ATTR_DEST, IPVS_CMD_ATTR_DAEMON, IPVS_CMD_ATTR_TIMEOUT_TCP, IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
  IPVS_CMD_ATTR_TIMEOUT_UDP, IPVS_SVC_ATTR_AF, IPVS_SVC_ATTR_PROTOCOL, IPVS_SVC_ATTR_ADDR, IPVS_SVC_ATTR_PORT,
  IPVS_SVC_ATTR_FWMARK, IPVS_SVC_ATTR_SCHED_NAME, IPVS_SVC_ATTR_FLAGS, IPVS_SVC_ATTR_TIMEOUT, IPVS_SVC_ATTR_NETMASK,
  IPVS_SVC_ATTR_PE_NAME, IPVS_DEST_ATTR_ADDR, IPVS_DEST_ATTR_PORT, IPVS_DEST_ATTR_FWD_METHOD, IPVS_DEST_ATTR_WEIGHT,
  IPVS_DEST_ATTR_U_THRESH, IPVS_DEST_ATTR_L_THRESH, IPVS_DEST_ATTR_ADDR_FAMILY, IPVS_DEST_ATTR_TUN_TYPE,
  IPVS_DEST_ATTR_TUN_PORT, IPVS_DEST_ATTR_TUN_FLAGS, IPVS_DAEMON_ATTR_STATE, IPVS_DAEMON_ATTR_MCAST_IFN,
  IPVS_DAEMON_ATTR_SYNC_ID, IPVS_DAEMON_ATTR_SYNC_MAXLEN, IPVS_DAEMON_ATTR_MCAST_GROUP, IPVS_DAEMON_ATTR_MCAST_GROUP6,
  IPVS_DAEMON_ATTR_MCAST_PORT, IPVS_DAEMON_ATTR_MCAST_TTL, IP_VS_SVC_F_HASHED, IP_VS_STATE_MASTER, IP_VS_STATE_BACKUP,
  IP_VS_SCHEDNAME_MAXLEN, IP_VS_PENAME_MAXLEN, IP_VS_IFNAME_MAXLEN, AF_INET, AF_INET6,
} from './uapi.js';
import {
  fwdMethod, isFwmark, PROTOCOLS, TUN_TYPES, type DaemonSpec, type DestId, type DestSpec, type IpvsRequest,
  type IpvsTimeouts, type ServiceId, type ServiceSpec, type SyncState,
} from './types.js';

// Encoders throw RangeError on values the kernel would reject or misread.
// A bulk apply encodes tens of thousands of requests (bench/ipvs: 39,582): requests are written straight into one
// scratch buffer, no DataView per value nor object per attribute; IPv4 text is parsed by hand.

function putU16(b: Uint8Array, o: number, v: number, netOrder: boolean): void {
  if (netOrder || !HOST_LE) {
    b[o] = (v >>> 8) & 0xff;
    b[o + 1] = v & 0xff;
  } else {
    b[o] = v & 0xff;
    b[o + 1] = (v >>> 8) & 0xff;
  }
}
function putU32(b: Uint8Array, o: number, v: number, netOrder: boolean): void {
  if (netOrder || !HOST_LE) {
    b[o] = v >>> 24;
    b[o + 1] = (v >>> 16) & 0xff;
    b[o + 2] = (v >>> 8) & 0xff;
    b[o + 3] = v & 0xff;
  } else {
    b[o] = v & 0xff;
    b[o + 1] = (v >>> 8) & 0xff;
    b[o + 2] = (v >>> 16) & 0xff;
    b[o + 3] = v >>> 24;
  }
}
const TEXT_ENCODER = new TextEncoder();

/** True for IPv4 text already in canonical dotted-quad form (no leading zeros): familyOf 4, canonicalAddress itself. */
export const isCanonicalIpv4 = (text: string): boolean => ipv4Fast(text) !== null;

/** Canonical dotted-quad IPv4 text (what the reconciler holds) to 4 bytes; null for anything else (the slow path decides). */
function ipv4Fast(text: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let part = 0;
  let n = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || n > 255 || part > 3) return null;
      out[part++] = n;
      n = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && n === 0) return null; // a leading zero: not canonical
      n = n * 10 + (c - 0x30);
      if (++digits > 3) return null;
    } else return null;
  }
  return part === 4 ? out : null;
}

const u16ok = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffff;
const u32ok = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
const afOf = (f: Family): number => (f === 4 ? AF_INET : AF_INET6);

function check(ok: boolean, what: string): void {
  if (!ok) throw new RangeError(what);
}

/** union nf_inet_addr: 16 bytes, an IPv4 address in the first 4 (as ipvsadm sends it). */
function inetAddr(address: string, family: Family): Uint8Array {
  const b = (family === 4 ? ipv4Fast(address) : null) ?? addressToBytes(address, family);
  if (!b) throw new RangeError(`not an IPv${family} address: ${address}`);
  const out = new Uint8Array(16);
  out.set(b);
  return out;
}

// The scratch buffer every request is written into; take() copies the request out (one allocation, or an arena slice).
const SCRATCH = new Uint8Array(2048); // a service + a dest request is under 300 bytes (names are at most 15 bytes)
let pos = 0;

function attrHeader(type: number, len: number): void {
  putU16(SCRATCH, pos, len, false);
  putU16(SCRATCH, pos + 2, type, false);
}
function wU16(type: number, v: number, netOrder = false): void {
  attrHeader(type, 6);
  putU16(SCRATCH, pos + 4, v, netOrder);
  SCRATCH[pos + 6] = 0;
  SCRATCH[pos + 7] = 0;
  pos += 8;
}
function wU32(type: number, v: number, netOrder = false): void {
  attrHeader(type, 8);
  putU32(SCRATCH, pos + 4, v >>> 0, netOrder);
  pos += 8;
}
function wU8(type: number, v: number): void {
  attrHeader(type, 5);
  SCRATCH[pos + 4] = v & 0xff;
  SCRATCH[pos + 5] = 0;
  SCRATCH[pos + 6] = 0;
  SCRATCH[pos + 7] = 0;
  pos += 8;
}
/** An address as union nf_inet_addr (16 bytes); RangeError as inetAddr. */
function wAddr(type: number, address: string, family: Family): void {
  const b = family === 4 ? ipv4Fast(address) : null;
  const bytes = b ?? inetAddr(address, family);
  attrHeader(type, 20);
  SCRATCH.fill(0, pos + 4, pos + 20);
  for (let i = 0; i < (b ? 4 : 16); i++) SCRATCH[pos + 4 + i] = bytes[i]!;
  pos += 20;
}
/** A NUL-terminated name, checked as nameAttr does. */
function wName(type: number, name: string, max: number, what: string): void {
  let ascii = true;
  for (let i = 0; i < name.length && ascii; i++) ascii = name.charCodeAt(i) < 0x80;
  const enc = ascii ? null : TEXT_ENCODER.encode(name);
  const len = enc ? enc.length : name.length;
  check(len >= 1 && len < max && !name.includes('\0'), `${what} "${name}" must be 1 to ${max - 1} bytes`);
  attrHeader(type, 4 + len + 1);
  for (let i = 0; i < len; i++) SCRATCH[pos + 4 + i] = enc ? enc[i]! : name.charCodeAt(i);
  const end = pos + ((4 + len + 1 + 3) & ~3);
  SCRATCH.fill(0, pos + 4 + len, end);
  pos = end;
}
function nestStart(): number {
  const start = pos;
  pos += 4;
  return start;
}
function nestEnd(start: number, type: number): void {
  putU16(SCRATCH, start, pos - start, false);
  putU16(SCRATCH, start + 2, type | NLA_F_NESTED, false);
}

/** Raw bytes (a multicast group: 4 or 16 bytes). */
function wBytes(type: number, b: Uint8Array): void {
  attrHeader(type, 4 + b.length);
  SCRATCH.set(b, pos + 4);
  const end = pos + ((4 + b.length + 3) & ~3);
  SCRATCH.fill(0, pos + 4 + b.length, end);
  pos = end;
}

/**
 * IPVS_CMD_ATTR_SERVICE: the identity (ip_vs_genl_parse_service's mandatory set), and with `full` the options
 * NEW/SET_SERVICE need (scheduler, persistence engine, flags, timeout, netmask). Nested with NLA_F_NESTED, as ipvsadm
 * (libnl) sends it; the kernel replies without (nla_nest_start_noflag) and parses both.
 */
function writeService(svc: ServiceId | ServiceSpec, full: boolean): void {
  const start = nestStart();
  check(svc.family === 4 || svc.family === 6, `service family ${String(svc.family)} is not 4 or 6`);
  wU16(IPVS_SVC_ATTR_AF, afOf(svc.family));
  if (isFwmark(svc)) {
    check(u32ok(svc.fwmark) && svc.fwmark > 0, `fwmark ${svc.fwmark} out of 1..4294967295`);
    wU32(IPVS_SVC_ATTR_FWMARK, svc.fwmark);
  } else {
    check(svc.protocol in PROTOCOLS, `protocol ${String(svc.protocol)} is not tcp, udp or sctp`);
    check(u16ok(svc.port), `port ${svc.port} out of 0..65535`);
    wU16(IPVS_SVC_ATTR_PROTOCOL, PROTOCOLS[svc.protocol]);
    wAddr(IPVS_SVC_ATTR_ADDR, svc.address, svc.family);
    wU16(IPVS_SVC_ATTR_PORT, svc.port, true); // __be16
  }
  if (full) {
    const s = svc as ServiceSpec;
    check(u32ok(s.flags), `service flags ${s.flags} are not a u32`);
    check(u32ok(s.timeout), `persistence timeout ${s.timeout} is not a u32`);
    wName(IPVS_SVC_ATTR_SCHED_NAME, s.scheduler, IP_VS_SCHEDNAME_MAXLEN, 'scheduler');
    if (s.pe) wName(IPVS_SVC_ATTR_PE_NAME, s.pe, IP_VS_PENAME_MAXLEN, 'persistence engine');
    // struct ip_vs_flags { u32 flags; u32 mask; }: mask ~0 replaces every flag, as ipvsadm does.
    attrHeader(IPVS_SVC_ATTR_FLAGS, 12);
    putU32(SCRATCH, pos + 4, (s.flags & ~IP_VS_SVC_F_HASHED) >>> 0, false);
    putU32(SCRATCH, pos + 8, 0xffffffff, false);
    pos += 12;
    wU32(IPVS_SVC_ATTR_TIMEOUT, s.timeout);
    // IPv4: the netmask in network order; IPv6: the prefix length as a host-order u32 (ip_vs_add_service checks 1..128).
    if (s.family === 6) {
      check(Number.isInteger(s.netmask) && s.netmask >= 1 && s.netmask <= 128, `IPv6 persistence prefix ${s.netmask} out of 1..128`);
      wU32(IPVS_SVC_ATTR_NETMASK, s.netmask);
    } else {
      check(Number.isInteger(s.netmask) && s.netmask >= 0 && s.netmask <= 32, `IPv4 persistence prefix ${s.netmask} out of 0..32`);
      wU32(IPVS_SVC_ATTR_NETMASK, s.netmask === 0 ? 0 : (0xffffffff << (32 - s.netmask)) >>> 0, true);
    }
  }
  nestEnd(start, IPVS_CMD_ATTR_SERVICE);
}

/**
 * IPVS_CMD_ATTR_DEST: identity (address, port) or the full entry (forwarding, weight, thresholds, tunnel). ADDR_FAMILY
 * is sent only for a dest of another family than its service (a mixed v4/v6 tunnel), so older kernels are not sent it.
 */
function writeDest(d: DestId | DestSpec, serviceFamily: Family, full: boolean): void {
  const start = nestStart();
  check(d.family === 4 || d.family === 6, `dest family ${String(d.family)} is not 4 or 6`);
  check(u16ok(d.port), `port ${d.port} out of 0..65535`);
  if (d.family !== serviceFamily) wU16(IPVS_DEST_ATTR_ADDR_FAMILY, afOf(d.family));
  wAddr(IPVS_DEST_ATTR_ADDR, d.address, d.family);
  wU16(IPVS_DEST_ATTR_PORT, d.port, true);
  if (full) {
    const s = d as DestSpec;
    const fwd = fwdMethod(s.forwarding);
    check(fwd >= 0, `forwarding ${String(s.forwarding)} is not dr, nat or tun`);
    check(Number.isInteger(s.weight) && s.weight >= 0 && s.weight <= 0x7fffffff, `weight ${s.weight} out of 0..2147483647`);
    check(u32ok(s.upperThreshold) && u32ok(s.lowerThreshold), 'thresholds must be u32');
    wU32(IPVS_DEST_ATTR_FWD_METHOD, fwd);
    wU32(IPVS_DEST_ATTR_WEIGHT, s.weight);
    wU32(IPVS_DEST_ATTR_U_THRESH, s.upperThreshold);
    wU32(IPVS_DEST_ATTR_L_THRESH, s.lowerThreshold);
    if (s.tunType !== undefined) {
      check(TUN_TYPES.includes(s.tunType), `tunnel type ${String(s.tunType)} is not ipip, gue or gre`);
      wU8(IPVS_DEST_ATTR_TUN_TYPE, TUN_TYPES.indexOf(s.tunType));
    }
    if (s.tunPort !== undefined) {
      check(u16ok(s.tunPort), `tunnel port ${s.tunPort} out of 0..65535`);
      wU16(IPVS_DEST_ATTR_TUN_PORT, s.tunPort, true);
    }
    if (s.tunFlags !== undefined) {
      check(u16ok(s.tunFlags), `tunnel flags ${s.tunFlags} are not a u16`);
      wU16(IPVS_DEST_ATTR_TUN_FLAGS, s.tunFlags);
    }
  }
  nestEnd(start, IPVS_CMD_ATTR_DEST);
}

/** IPVS_CMD_ATTR_DAEMON for NEW_DAEMON (state, interface, sync id, options) or DEL_DAEMON (state only). */
function writeDaemon(d: DaemonSpec | { state: SyncState }, full: boolean): void {
  const start = nestStart();
  check(d.state === 'master' || d.state === 'backup', `sync daemon state ${String(d.state)} is not master or backup`);
  wU32(IPVS_DAEMON_ATTR_STATE, d.state === 'master' ? IP_VS_STATE_MASTER : IP_VS_STATE_BACKUP);
  if (full) {
    const s = d as DaemonSpec;
    check(u32ok(s.syncId), `sync id ${s.syncId} is not a u32`);
    wName(IPVS_DAEMON_ATTR_MCAST_IFN, s.interface, IP_VS_IFNAME_MAXLEN, 'interface');
    wU32(IPVS_DAEMON_ATTR_SYNC_ID, s.syncId);
    if (s.maxLen !== undefined) {
      check(u16ok(s.maxLen) && s.maxLen > 0, `sync maxlen ${s.maxLen} out of 1..65535`);
      wU16(IPVS_DAEMON_ATTR_SYNC_MAXLEN, s.maxLen);
    }
    if (s.port !== undefined) {
      check(u16ok(s.port) && s.port > 0, `sync port ${s.port} out of 1..65535`);
      wU16(IPVS_DAEMON_ATTR_MCAST_PORT, s.port); // host order: the kernel adds the thread id, then htons
    }
    if (s.ttl !== undefined) {
      check(Number.isInteger(s.ttl) && s.ttl >= 1 && s.ttl <= 255, `sync TTL ${s.ttl} out of 1..255`);
      wU8(IPVS_DAEMON_ATTR_MCAST_TTL, s.ttl);
    }
    if (s.group !== undefined) {
      const g = addressToBytes(s.group);
      check(g !== null && (g.length === 4 ? (g[0]! & 0xf0) === 0xe0 : g[0] === 0xff), `sync group ${s.group} is not a multicast address`);
      // IPv4: nla_get_in_addr (network order); IPv6: nla_get_in6_addr. Last, in ipvsadm's order.
      wBytes(g!.length === 4 ? IPVS_DAEMON_ATTR_MCAST_GROUP : IPVS_DAEMON_ATTR_MCAST_GROUP6, g!);
    }
  }
  nestEnd(start, IPVS_CMD_ATTR_DAEMON);
}

/**
 * The connection timeouts (top-level u32 seconds, as ipvsadm --set sends them). The kernel keeps a timeout that is
 * absent or 0 (ip_vs_set_timeout), so only the ones set are sent; it refuses values above INT_MAX / HZ (EINVAL).
 */
function writeTimeouts(t: Partial<IpvsTimeouts>): void {
  for (const [type, v, what] of [[IPVS_CMD_ATTR_TIMEOUT_TCP, t.tcp, 'tcp'], [IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, t.tcpFin, 'tcpfin'],
    [IPVS_CMD_ATTR_TIMEOUT_UDP, t.udp, 'udp']] as const) {
    if (v === undefined || v === 0) continue;
    check(Number.isInteger(v) && v > 0 && v <= MAX_TIMEOUT_S, `${what} timeout ${v} s out of 1..${MAX_TIMEOUT_S}`);
    wU32(type, v);
  }
}
/** INT_MAX / 1000: the largest timeout every kernel takes whatever its HZ (ip_vs_set_timeout). */
export const MAX_TIMEOUT_S = Math.floor(0x7fffffff / 1000);

/** encodeRequests' arena: requests are cut from shared chunks instead of one ArrayBuffer each. */
let arena: { chunk: Uint8Array; used: number } | null = null;
const ARENA_CHUNK = 256 * 1024;

function take(): Uint8Array {
  if (!arena) return SCRATCH.slice(0, pos);
  if (arena.used + pos > arena.chunk.length) arena = { chunk: new Uint8Array(Math.max(ARENA_CHUNK, pos)), used: 0 };
  const out = arena.chunk.subarray(arena.used, arena.used + pos);
  out.set(SCRATCH.subarray(0, pos));
  arena.used += (pos + 7) & ~7;
  return out;
}

/**
 * Run `f` (which builds requests with the functions below) with the requests' bytes cut from shared chunks: a plan
 * of 40,000 requests makes a few hundred allocations instead of 40,000. The bytes are the same.
 */
export function encodeRequests<T>(f: () => T): T {
  const outer = arena;
  arena = { chunk: new Uint8Array(ARENA_CHUNK), used: 0 };
  try {
    return f();
  } finally {
    arena = outer;
  }
}

/** One request: `write` fills the scratch buffer (nothing for a request without attributes). */
function request(cmd: number, write: (() => void) | null, dump = false): IpvsRequest {
  pos = 0;
  write?.();
  return { cmd, attrs: take(), dump };
}
// The hot path of a bulk apply: no closure per request.
function serviceReq(cmd: number, svc: ServiceId | ServiceSpec, full: boolean, dump = false): IpvsRequest {
  pos = 0;
  writeService(svc, full);
  return { cmd, attrs: take(), dump };
}
function destReq(cmd: number, svc: ServiceId, d: DestId | DestSpec, full: boolean): IpvsRequest {
  pos = 0;
  writeService(svc, false);
  writeDest(d, svc.family, full);
  return { cmd, attrs: take(), dump: false };
}

export const newServiceRequest = (s: ServiceSpec) => serviceReq(IPVS_CMD_NEW_SERVICE, s, true);
export const setServiceRequest = (s: ServiceSpec) => serviceReq(IPVS_CMD_SET_SERVICE, s, true);
export const delServiceRequest = (id: ServiceId) => serviceReq(IPVS_CMD_DEL_SERVICE, id, false);
/** A dump of every service of the namespace, or one service (doit) when `id` is given. */
export const getServiceRequest = (id?: ServiceId) => (id ? serviceReq(IPVS_CMD_GET_SERVICE, id, false) : request(IPVS_CMD_GET_SERVICE, null, true));
export const newDestRequest = (svc: ServiceId, d: DestSpec) => destReq(IPVS_CMD_NEW_DEST, svc, d, true);
export const setDestRequest = (svc: ServiceId, d: DestSpec) => destReq(IPVS_CMD_SET_DEST, svc, d, true);
export const delDestRequest = (svc: ServiceId, d: DestId) => destReq(IPVS_CMD_DEL_DEST, svc, d, false);
/** A dump of one service's destinations (GET_DEST has only a dumpit). */
export const getDestRequest = (svc: ServiceId) => serviceReq(IPVS_CMD_GET_DEST, svc, false, true);
export const newDaemonRequest = (d: DaemonSpec) => request(IPVS_CMD_NEW_DAEMON, () => writeDaemon(d, true));
export const delDaemonRequest = (state: SyncState) => request(IPVS_CMD_DEL_DAEMON, () => writeDaemon({ state }, false));
export const getDaemonRequest = () => request(IPVS_CMD_GET_DAEMON, null, true);
export const getInfoRequest = () => request(IPVS_CMD_GET_INFO, null);
/** IPVS_CMD_SET_CONFIG: the connection timeouts that are set (ipvsadm --set). */
export const setConfigRequest = (t: Partial<IpvsTimeouts>) => request(IPVS_CMD_SET_CONFIG, () => writeTimeouts(t));
/** IPVS_CMD_GET_CONFIG: the connection timeouts (the reply is an IPVS_CMD_SET_CONFIG). */
export const getConfigRequest = () => request(IPVS_CMD_GET_CONFIG, null);
/** Zero the counters of one service, or of all without `id`. */
export const zeroRequest = (id?: ServiceId) => (id ? serviceReq(IPVS_CMD_ZERO, id, false) : request(IPVS_CMD_ZERO, null));
/** Known for completeness and tests; vrrpd never flushes (foreign services must stay). */
export const flushRequest = () => request(IPVS_CMD_FLUSH, null);
