// IPVS generic netlink codec, pure: IPVS_CMD_* request attributes and reply parsing, per linux/uapi/linux/ip_vs.h.
// Layouts follow net/netfilter/ipvs/ip_vs_ctl.c (ip_vs_*_policy, ip_vs_genl_fill_*) and ipvsadm's libipvs.
import {
  attrMap, decodeAttrs, encodeAttrs, nlaBytes, nlaNest, nlaStr, nlaU16, nlaU32, nlaU8, readStr, readU16, readU32, readU64,
  readU8, HOST_LE, NLA_F_NESTED, NLA_TYPE_MASK, type NlAttr, type NlAttrIn, type Result,
} from '../net/nlmsg.js';
import { addressToBytes, bytesToAddress, type Family } from '../protocol/addr.js';

export * from './uapi.js';
import {
  IPVS_CMD_NEW_SERVICE, IPVS_CMD_SET_SERVICE, IPVS_CMD_DEL_SERVICE, IPVS_CMD_GET_SERVICE, IPVS_CMD_NEW_DEST,
  IPVS_CMD_SET_DEST, IPVS_CMD_DEL_DEST, IPVS_CMD_GET_DEST, IPVS_CMD_NEW_DAEMON, IPVS_CMD_DEL_DAEMON,
  IPVS_CMD_GET_DAEMON, IPVS_CMD_GET_INFO, IPVS_CMD_ZERO, IPVS_CMD_FLUSH, IPVS_CMD_ATTR_SERVICE,
  IPVS_CMD_ATTR_DEST, IPVS_CMD_ATTR_DAEMON, IPVS_SVC_ATTR_AF, IPVS_SVC_ATTR_PROTOCOL, IPVS_SVC_ATTR_ADDR,
  IPVS_SVC_ATTR_PORT, IPVS_SVC_ATTR_FWMARK, IPVS_SVC_ATTR_SCHED_NAME, IPVS_SVC_ATTR_FLAGS, IPVS_SVC_ATTR_TIMEOUT,
  IPVS_SVC_ATTR_NETMASK, IPVS_SVC_ATTR_STATS, IPVS_SVC_ATTR_PE_NAME, IPVS_SVC_ATTR_STATS64, IPVS_DEST_ATTR_ADDR,
  IPVS_DEST_ATTR_PORT, IPVS_DEST_ATTR_FWD_METHOD, IPVS_DEST_ATTR_WEIGHT, IPVS_DEST_ATTR_U_THRESH,
  IPVS_DEST_ATTR_L_THRESH, IPVS_DEST_ATTR_ACTIVE_CONNS, IPVS_DEST_ATTR_INACT_CONNS, IPVS_DEST_ATTR_PERSIST_CONNS,
  IPVS_DEST_ATTR_STATS, IPVS_DEST_ATTR_ADDR_FAMILY, IPVS_DEST_ATTR_STATS64, IPVS_DEST_ATTR_TUN_TYPE,
  IPVS_DEST_ATTR_TUN_PORT, IPVS_DEST_ATTR_TUN_FLAGS, IPVS_DAEMON_ATTR_STATE, IPVS_DAEMON_ATTR_MCAST_IFN,
  IPVS_DAEMON_ATTR_SYNC_ID, IPVS_DAEMON_ATTR_SYNC_MAXLEN, IPVS_DAEMON_ATTR_MCAST_GROUP, IPVS_DAEMON_ATTR_MCAST_GROUP6,
  IPVS_DAEMON_ATTR_MCAST_PORT, IPVS_DAEMON_ATTR_MCAST_TTL, IPVS_INFO_ATTR_VERSION, IPVS_INFO_ATTR_CONN_TAB_SIZE,
  IP_VS_SVC_F_HASHED, IP_VS_CONN_F_FWD_MASK,
  IP_VS_STATE_MASTER, IP_VS_STATE_BACKUP, IP_VS_SCHEDNAME_MAXLEN, IP_VS_PENAME_MAXLEN, IP_VS_IFNAME_MAXLEN, AF_INET,
  AF_INET6,
} from './uapi.js';

// linux/ip_vs.h: IPVS_STATS_ATTR_* order (inside *_ATTR_STATS and *_ATTR_STATS64)
const STATS_FIELDS = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes', 'cps', 'inPps', 'outPps', 'inBps', 'outBps'] as const;
const PROTOCOLS = { tcp: 6, udp: 17, sctp: 132 } as const;

/** Every scheduler this kernel interface names (net/netfilter/ipvs/ip_vs_*.c), as the config allows them. */
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'] as const;
export type Scheduler = (typeof SCHEDULERS)[number];
export type Protocol = keyof typeof PROTOCOLS;
/** dr = "gate" (IP_VS_CONN_F_DROUTE), nat = "masq" (IP_VS_CONN_F_MASQ), tun = "ipip" (IP_VS_CONN_F_TUNNEL). */
export type Forwarding = 'nat' | 'local' | 'tun' | 'dr' | 'bypass';
const FORWARDING: readonly Forwarding[] = ['nat', 'local', 'tun', 'dr', 'bypass'];
/** linux/ip_vs.h: IP_VS_CONN_F_TUNNEL_TYPE_IPIP / _GUE / _GRE. */
export type TunType = 'ipip' | 'gue' | 'gre';
const TUN_TYPES: readonly TunType[] = ['ipip', 'gue', 'gre'];

export const fwdMethod = (f: Forwarding): number => FORWARDING.indexOf(f);
export const protocolNumber = (p: Protocol): number => PROTOCOLS[p];

/** A service by firewall mark (the kernel keeps protocol TCP for it, and no address or port). */
export interface FwmarkServiceId { family: Family; fwmark: number }
/** A service by protocol, address and port. */
export interface AddrServiceId { family: Family; protocol: Protocol; address: string; port: number }
export type ServiceId = FwmarkServiceId | AddrServiceId;
export const isFwmark = (id: ServiceId): id is FwmarkServiceId => 'fwmark' in id;

export interface ServiceOptions {
  scheduler: string;
  /** IP_VS_SVC_F_* bits, IP_VS_SVC_F_HASHED excluded. */
  flags: number;
  /** Persistence timeout in seconds (IPVS_SVC_ATTR_TIMEOUT). */
  timeout: number;
  /** Persistence granularity as a prefix length: 0-32 for IPv4 (sent as a netmask), 1-128 for IPv6. */
  netmask: number;
  /** Persistence engine (IPVS_SVC_ATTR_PE_NAME, e.g. "sip"); none when absent. */
  pe?: string;
}
export type ServiceSpec = ServiceId & ServiceOptions;

export interface DestId {
  address: string;
  /** The address's family: differs from the service's only for tunnelled dests (IPVS_DEST_ATTR_ADDR_FAMILY). */
  family: Family;
  port: number;
}
export interface DestSpec extends DestId {
  forwarding: Forwarding;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  /** Tunnel encapsulation (Linux 5.2+); absent: the kernel's default, ipip. */
  tunType?: TunType;
  tunPort?: number;
  tunFlags?: number;
}

/** Counters (totals) and rates (per second); 64-bit values beyond 2^53 lose precision, as in Prometheus. */
export type Stats = Record<(typeof STATS_FIELDS)[number], number>;
export interface DestEntry extends DestSpec {
  activeConns: number;
  inactConns: number;
  persistConns: number;
  stats: Stats;
}
export type ServiceEntry = ServiceSpec & { stats: Stats; dests: DestEntry[] };

export type SyncState = 'master' | 'backup';
export interface DaemonSpec {
  state: SyncState;
  /** Multicast interface (IPVS_DAEMON_ATTR_MCAST_IFN). */
  interface: string;
  syncId: number;
  /** UDP payload size (Linux 4.3+, as are the group, port and TTL; the kernel clamps it to the MTU). */
  maxLen?: number;
  /** IPv4 or IPv6 multicast group; kernel default 224.0.0.81. */
  group?: string;
  /** Base UDP port; kernel default 8848. */
  port?: number;
  ttl?: number;
}

export interface IpvsInfo {
  /** IP_VS_VERSION_CODE, e.g. 0x010201. */
  versionCode: number;
  /** "1.2.1" */
  version: string;
  /** Connection hash table size (ip_vs_conn_tab_size). */
  connTableSize: number;
}

/** One request: the command and the attributes after the genlmsghdr. */
export interface IpvsRequest {
  cmd: number;
  attrs: Uint8Array;
  dump: boolean;
}

// ---------------------------------------------------------------------------------------------
// Encoding. Encoders throw RangeError on values the kernel would reject or misread.

// A bulk apply encodes tens of thousands of requests (bench/ipvs: 39,582): service and destination requests are
// written straight into bytes below (serviceReq, destReq) instead of through nlmsg.ts's generic builders, which make
// a DataView per value and per attribute; IPv4 text is parsed by hand. The bytes are the same (test/ipvs/codec.test.ts).

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
export function inetAddr(address: string, family: Family): Uint8Array {
  const b = (family === 4 ? ipv4Fast(address) : null) ?? addressToBytes(address, family);
  if (!b) throw new RangeError(`not an IPv${family} address: ${address}`);
  const out = new Uint8Array(16);
  out.set(b);
  return out;
}

/** IPv4: the netmask in network order; IPv6: the prefix length as a host-order u32 (ip_vs_add_service checks 1..128). */
export function netmaskAttr(prefix: number, family: Family): NlAttrIn {
  if (family === 6) {
    check(Number.isInteger(prefix) && prefix >= 1 && prefix <= 128, `IPv6 persistence prefix ${prefix} out of 1..128`);
    return nlaU32(IPVS_SVC_ATTR_NETMASK, prefix);
  }
  check(Number.isInteger(prefix) && prefix >= 0 && prefix <= 32, `IPv4 persistence prefix ${prefix} out of 0..32`);
  return nlaU32(IPVS_SVC_ATTR_NETMASK, prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0, true);
}

function nameAttr(type: number, name: string, max: number, what: string): NlAttrIn {
  const len = new TextEncoder().encode(name).length;
  check(len >= 1 && len < max && !name.includes('\0'), `${what} "${name}" must be 1 to ${max - 1} bytes`);
  return nlaStr(type, name);
}

/** The identifying attributes of a service (ip_vs_genl_parse_service's mandatory set). */
function serviceIdAttrs(id: ServiceId): NlAttrIn[] {
  check(id.family === 4 || id.family === 6, `service family ${String(id.family)} is not 4 or 6`);
  const attrs: NlAttrIn[] = [nlaU16(IPVS_SVC_ATTR_AF, afOf(id.family))];
  if (isFwmark(id)) {
    check(u32ok(id.fwmark) && id.fwmark > 0, `fwmark ${id.fwmark} out of 1..4294967295`);
    attrs.push(nlaU32(IPVS_SVC_ATTR_FWMARK, id.fwmark));
  } else {
    check(id.protocol in PROTOCOLS, `protocol ${String(id.protocol)} is not tcp, udp or sctp`);
    check(u16ok(id.port), `port ${id.port} out of 0..65535`);
    attrs.push(
      nlaU16(IPVS_SVC_ATTR_PROTOCOL, PROTOCOLS[id.protocol]),
      nlaBytes(IPVS_SVC_ATTR_ADDR, inetAddr(id.address, id.family)),
      nlaU16(IPVS_SVC_ATTR_PORT, id.port, true), // __be16
    );
  }
  return attrs;
}

/** struct ip_vs_flags { u32 flags; u32 mask; }: mask ~0 replaces every flag, as ipvsadm does. */
function flagsAttr(flags: number): NlAttrIn {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, (flags & ~IP_VS_SVC_F_HASHED) >>> 0, HOST_LE);
  v.setUint32(4, 0xffffffff, HOST_LE);
  return nlaBytes(IPVS_SVC_ATTR_FLAGS, b);
}

/** IPVS_CMD_ATTR_SERVICE: identity only, or the full entry NEW/SET_SERVICE need (sched, flags, timeout, netmask). */
export function serviceAttr(svc: ServiceId | ServiceSpec, full: boolean): NlAttrIn {
  const attrs = serviceIdAttrs(svc);
  if (full) {
    const s = svc as ServiceSpec;
    check(u32ok(s.flags), `service flags ${s.flags} are not a u32`);
    check(u32ok(s.timeout), `persistence timeout ${s.timeout} is not a u32`);
    attrs.push(nameAttr(IPVS_SVC_ATTR_SCHED_NAME, s.scheduler, IP_VS_SCHEDNAME_MAXLEN, 'scheduler'));
    if (s.pe) attrs.push(nameAttr(IPVS_SVC_ATTR_PE_NAME, s.pe, IP_VS_PENAME_MAXLEN, 'persistence engine'));
    attrs.push(flagsAttr(s.flags), nlaU32(IPVS_SVC_ATTR_TIMEOUT, s.timeout), netmaskAttr(s.netmask, s.family));
  }
  // With NLA_F_NESTED, as ipvsadm (libnl) sends it; the kernel replies without (nla_nest_start_noflag), parses both.
  return nlaNest(IPVS_CMD_ATTR_SERVICE, attrs);
}

/**
 * IPVS_CMD_ATTR_DEST: identity (address, port) or the full entry (forwarding, weight, thresholds). ADDR_FAMILY is
 * sent only for a dest of another family than its service (a mixed v4/v6 tunnel), so older kernels are not sent it.
 */
export function destAttr(d: DestId | DestSpec, serviceFamily: Family, full: boolean): NlAttrIn {
  check(d.family === 4 || d.family === 6, `dest family ${String(d.family)} is not 4 or 6`);
  check(u16ok(d.port), `port ${d.port} out of 0..65535`);
  const attrs: NlAttrIn[] = [];
  if (d.family !== serviceFamily) attrs.push(nlaU16(IPVS_DEST_ATTR_ADDR_FAMILY, afOf(d.family)));
  attrs.push(nlaBytes(IPVS_DEST_ATTR_ADDR, inetAddr(d.address, d.family)), nlaU16(IPVS_DEST_ATTR_PORT, d.port, true));
  if (full) {
    const s = d as DestSpec;
    const fwd = fwdMethod(s.forwarding);
    check(fwd >= 0, `forwarding ${String(s.forwarding)} is not dr, nat or tun`);
    check(Number.isInteger(s.weight) && s.weight >= 0 && s.weight <= 0x7fffffff, `weight ${s.weight} out of 0..2147483647`);
    check(u32ok(s.upperThreshold) && u32ok(s.lowerThreshold), 'thresholds must be u32');
    attrs.push(
      nlaU32(IPVS_DEST_ATTR_FWD_METHOD, fwd), nlaU32(IPVS_DEST_ATTR_WEIGHT, s.weight),
      nlaU32(IPVS_DEST_ATTR_U_THRESH, s.upperThreshold), nlaU32(IPVS_DEST_ATTR_L_THRESH, s.lowerThreshold),
    );
    if (s.tunType !== undefined) {
      check(TUN_TYPES.includes(s.tunType), `tunnel type ${String(s.tunType)} is not ipip, gue or gre`);
      attrs.push(nlaU8(IPVS_DEST_ATTR_TUN_TYPE, TUN_TYPES.indexOf(s.tunType)));
    }
    if (s.tunPort !== undefined) {
      check(u16ok(s.tunPort), `tunnel port ${s.tunPort} out of 0..65535`);
      attrs.push(nlaU16(IPVS_DEST_ATTR_TUN_PORT, s.tunPort, true));
    }
    if (s.tunFlags !== undefined) {
      check(u16ok(s.tunFlags), `tunnel flags ${s.tunFlags} are not a u16`);
      attrs.push(nlaU16(IPVS_DEST_ATTR_TUN_FLAGS, s.tunFlags));
    }
  }
  return nlaNest(IPVS_CMD_ATTR_DEST, attrs);
}

/** IPVS_CMD_ATTR_DAEMON for NEW_DAEMON (state, interface, sync id, options) or DEL_DAEMON (state only). */
export function daemonAttr(d: DaemonSpec | { state: SyncState }, full: boolean): NlAttrIn {
  check(d.state === 'master' || d.state === 'backup', `sync daemon state ${String(d.state)} is not master or backup`);
  const attrs: NlAttrIn[] = [nlaU32(IPVS_DAEMON_ATTR_STATE, d.state === 'master' ? IP_VS_STATE_MASTER : IP_VS_STATE_BACKUP)];
  if (full) {
    const s = d as DaemonSpec;
    check(u32ok(s.syncId), `sync id ${s.syncId} is not a u32`);
    attrs.push(nameAttr(IPVS_DAEMON_ATTR_MCAST_IFN, s.interface, IP_VS_IFNAME_MAXLEN, 'interface'), nlaU32(IPVS_DAEMON_ATTR_SYNC_ID, s.syncId));
    if (s.maxLen !== undefined) {
      check(u16ok(s.maxLen) && s.maxLen > 0, `sync maxlen ${s.maxLen} out of 1..65535`);
      attrs.push(nlaU16(IPVS_DAEMON_ATTR_SYNC_MAXLEN, s.maxLen));
    }
    if (s.port !== undefined) {
      check(u16ok(s.port) && s.port > 0, `sync port ${s.port} out of 1..65535`);
      attrs.push(nlaU16(IPVS_DAEMON_ATTR_MCAST_PORT, s.port)); // host order: the kernel adds the thread id, then htons
    }
    if (s.ttl !== undefined) {
      check(Number.isInteger(s.ttl) && s.ttl >= 1 && s.ttl <= 255, `sync TTL ${s.ttl} out of 1..255`);
      attrs.push(nlaU8(IPVS_DAEMON_ATTR_MCAST_TTL, s.ttl));
    }
    if (s.group !== undefined) {
      const g = addressToBytes(s.group);
      check(g !== null && (g.length === 4 ? (g[0]! & 0xf0) === 0xe0 : g[0] === 0xff), `sync group ${s.group} is not a multicast address`);
      // IPv4: nla_get_in_addr (network order); IPv6: nla_get_in6_addr. Last, in ipvsadm's order.
      attrs.push(g!.length === 4 ? nlaBytes(IPVS_DAEMON_ATTR_MCAST_GROUP, g!) : nlaBytes(IPVS_DAEMON_ATTR_MCAST_GROUP6, g!));
    }
  }
  return nlaNest(IPVS_CMD_ATTR_DAEMON, attrs);
}

const req = (cmd: number, attrs: NlAttrIn[], dump = false): IpvsRequest => ({ cmd, attrs: encodeAttrs(attrs), dump });

// Service and destination requests, written straight into one scratch buffer (the hot path of a bulk apply): the same
// checks in the same order and the same bytes as serviceAttr / destAttr + encodeAttrs, one allocation per request.
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

/** serviceAttr(svc, full), written. */
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
    wU16(IPVS_SVC_ATTR_PORT, svc.port, true);
  }
  if (full) {
    const s = svc as ServiceSpec;
    check(u32ok(s.flags), `service flags ${s.flags} are not a u32`);
    check(u32ok(s.timeout), `persistence timeout ${s.timeout} is not a u32`);
    wName(IPVS_SVC_ATTR_SCHED_NAME, s.scheduler, IP_VS_SCHEDNAME_MAXLEN, 'scheduler');
    if (s.pe) wName(IPVS_SVC_ATTR_PE_NAME, s.pe, IP_VS_PENAME_MAXLEN, 'persistence engine');
    attrHeader(IPVS_SVC_ATTR_FLAGS, 12);
    putU32(SCRATCH, pos + 4, (s.flags & ~IP_VS_SVC_F_HASHED) >>> 0, false);
    putU32(SCRATCH, pos + 8, 0xffffffff, false);
    pos += 12;
    wU32(IPVS_SVC_ATTR_TIMEOUT, s.timeout);
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

/** destAttr(d, serviceFamily, full), written. */
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
export const getServiceRequest = (id?: ServiceId) => (id ? serviceReq(IPVS_CMD_GET_SERVICE, id, false) : req(IPVS_CMD_GET_SERVICE, [], true));
export const newDestRequest = (svc: ServiceId, d: DestSpec) => destReq(IPVS_CMD_NEW_DEST, svc, d, true);
export const setDestRequest = (svc: ServiceId, d: DestSpec) => destReq(IPVS_CMD_SET_DEST, svc, d, true);
export const delDestRequest = (svc: ServiceId, d: DestId) => destReq(IPVS_CMD_DEL_DEST, svc, d, false);
/** A dump of one service's destinations (GET_DEST has only a dumpit). */
export const getDestRequest = (svc: ServiceId) => serviceReq(IPVS_CMD_GET_DEST, svc, false, true);
export const newDaemonRequest = (d: DaemonSpec) => req(IPVS_CMD_NEW_DAEMON, [daemonAttr(d, true)]);
export const delDaemonRequest = (state: SyncState) => req(IPVS_CMD_DEL_DAEMON, [daemonAttr({ state }, false)]);
export const getDaemonRequest = () => req(IPVS_CMD_GET_DAEMON, [], true);
export const getInfoRequest = () => req(IPVS_CMD_GET_INFO, []);
/** Zero the counters of one service, or of all without `id`. */
export const zeroRequest = (id?: ServiceId) => (id ? serviceReq(IPVS_CMD_ZERO, id, false) : req(IPVS_CMD_ZERO, []));
/** Known for completeness and tests; vrrpd never flushes (foreign services must stay). */
export const flushRequest = () => req(IPVS_CMD_FLUSH, []);

// ---------------------------------------------------------------------------------------------
// Decoding replies (the attributes after the genlmsghdr). Never throws.

type Attrs = Map<number, NlAttr>;
const fail = <T>(error: string): Result<T> => ({ ok: false, error });

function nested(attrs: Uint8Array, type: number, what: string): Result<Attrs> {
  const top = decodeAttrs(attrs);
  if (!top.ok) return fail(`${what}: ${top.error}`);
  const a = attrMap(top.value).get(type);
  if (!a) return fail(`${what}: no attribute ${type} in the reply`);
  const inner = decodeAttrs(a.value);
  return inner.ok ? { ok: true, value: attrMap(inner.value) } : fail(`${what}: ${inner.error}`);
}

const u32 = (m: Attrs, t: number): number | null => (m.get(t) ? readU32(m.get(t)!.value) : null);
const u16 = (m: Attrs, t: number, net = false): number | null => (m.get(t) ? readU16(m.get(t)!.value, net) : null);

function familyOf(af: number | null): Family | null {
  return af === AF_INET ? 4 : af === AF_INET6 ? 6 : null;
}

function addrOf(m: Attrs, t: number, family: Family): string | null {
  const v = m.get(t)?.value;
  const n = family === 4 ? 4 : 16;
  return v && v.length >= n ? bytesToAddress(v.subarray(0, n)) : null;
}

/** decodeStats, attribute by attribute (the reference the fast path below matches). */
function decodeStatsSlow(value: Uint8Array | undefined): Stats {
  const stats = Object.fromEntries(STATS_FIELDS.map((f) => [f, 0])) as Stats;
  const attrs = value ? decodeAttrs(value) : null;
  if (!attrs?.ok) return stats;
  for (const a of attrs.value) {
    const field = STATS_FIELDS[a.type - 1];
    if (!field) continue;
    const v = a.value.length >= 8 ? readU64(a.value) : readU32(a.value);
    stats[field] = v === null ? 0 : Number(v);
  }
  return stats;
}

function prefixOf(raw: Uint8Array | undefined, family: Family): number {
  if (!raw || raw.length < 4) return family === 4 ? 32 : 128;
  if (family === 6) return readU32(raw) ?? 128;
  let mask = readU32(raw, true) ?? 0xffffffff;
  let n = 0;
  while (mask & 0x80000000) {
    n += 1;
    mask = (mask << 1) >>> 0;
  }
  return n;
}

const PROTOCOL_BY_NUMBER = new Map<number, Protocol>(Object.entries(PROTOCOLS).map(([k, v]) => [v, k as Protocol]));

/** decodeService through generic attribute maps: the reference, and the path for malformed replies (its errors). */
function decodeServiceSlow(attrs: Uint8Array): Result<ServiceEntry> {
  const r = nested(attrs, IPVS_CMD_ATTR_SERVICE, 'service');
  if (!r.ok) return r;
  const m = r.value;
  const family = familyOf(u16(m, IPVS_SVC_ATTR_AF));
  if (!family) return fail(`service: address family ${u16(m, IPVS_SVC_ATTR_AF)} is not AF_INET or AF_INET6`);
  const flagsRaw = m.get(IPVS_SVC_ATTR_FLAGS)?.value;
  const options: ServiceOptions = {
    scheduler: m.get(IPVS_SVC_ATTR_SCHED_NAME) ? readStr(m.get(IPVS_SVC_ATTR_SCHED_NAME)!.value) : '',
    flags: ((flagsRaw ? readU32(flagsRaw) : 0) ?? 0) & ~IP_VS_SVC_F_HASHED,
    timeout: u32(m, IPVS_SVC_ATTR_TIMEOUT) ?? 0,
    netmask: prefixOf(m.get(IPVS_SVC_ATTR_NETMASK)?.value, family),
  };
  const pe = m.get(IPVS_SVC_ATTR_PE_NAME);
  if (pe) options.pe = readStr(pe.value);
  const stats = decodeStatsSlow((m.get(IPVS_SVC_ATTR_STATS64) ?? m.get(IPVS_SVC_ATTR_STATS))?.value);
  const fwmark = u32(m, IPVS_SVC_ATTR_FWMARK);
  if (fwmark) return { ok: true, value: { family, fwmark, ...options, stats, dests: [] } };
  const proto = u16(m, IPVS_SVC_ATTR_PROTOCOL);
  const protocol = proto === null ? undefined : PROTOCOL_BY_NUMBER.get(proto);
  const address = addrOf(m, IPVS_SVC_ATTR_ADDR, family);
  const port = u16(m, IPVS_SVC_ATTR_PORT, true);
  if (!protocol || address === null || port === null) {
    return fail(`service: protocol ${proto}, address or port missing or unknown`);
  }
  return { ok: true, value: { family, protocol, address, port, ...options, stats, dests: [] } };
}

/** decodeDest through generic attribute maps: the reference, and the path for malformed replies (its errors). */
function decodeDestSlow(attrs: Uint8Array, serviceFamily: Family): Result<DestEntry> {
  const r = nested(attrs, IPVS_CMD_ATTR_DEST, 'dest');
  if (!r.ok) return r;
  const m = r.value;
  const family = familyOf(u16(m, IPVS_DEST_ATTR_ADDR_FAMILY)) ?? serviceFamily;
  const address = addrOf(m, IPVS_DEST_ATTR_ADDR, family);
  const port = u16(m, IPVS_DEST_ATTR_PORT, true);
  if (address === null || port === null) return fail('dest: address or port missing');
  const d: DestEntry = {
    address, family, port,
    forwarding: FORWARDING[(u32(m, IPVS_DEST_ATTR_FWD_METHOD) ?? 0) & IP_VS_CONN_F_FWD_MASK] ?? 'nat',
    weight: u32(m, IPVS_DEST_ATTR_WEIGHT) ?? 0,
    upperThreshold: u32(m, IPVS_DEST_ATTR_U_THRESH) ?? 0,
    lowerThreshold: u32(m, IPVS_DEST_ATTR_L_THRESH) ?? 0,
    activeConns: u32(m, IPVS_DEST_ATTR_ACTIVE_CONNS) ?? 0,
    inactConns: u32(m, IPVS_DEST_ATTR_INACT_CONNS) ?? 0,
    persistConns: u32(m, IPVS_DEST_ATTR_PERSIST_CONNS) ?? 0,
    stats: decodeStatsSlow((m.get(IPVS_DEST_ATTR_STATS64) ?? m.get(IPVS_DEST_ATTR_STATS))?.value),
  };
  const tt = m.get(IPVS_DEST_ATTR_TUN_TYPE);
  if (tt) d.tunType = TUN_TYPES[readU8(tt.value) ?? 0] ?? 'ipip';
  const tp = u16(m, IPVS_DEST_ATTR_TUN_PORT, true);
  if (tp !== null) d.tunPort = tp;
  const tf = u16(m, IPVS_DEST_ATTR_TUN_FLAGS);
  if (tf !== null) d.tunFlags = tf;
  return { ok: true, value: d };
}

// Fast decoding: a full read of a big table decodes one message per service and per real server (bench/ipvs: 39,582),
// so services, destinations and stats are read in place: one pass over each attribute run recording where the last
// attribute of each type is (as nla_parse, and attrMap, keep the last), no Map, no subarray, no BigInt, no DataView.
// Anything malformed goes to the slow path above, which names the problem; well-formed replies decode to the same values.

const SLOTS = 32;
/** Start offset (-1: absent) and length of each attribute's value, by type; one table per nesting level in use. */
const TOP = new Int32Array(SLOTS * 2);
const INNER = new Int32Array(SLOTS * 2);
const STATS = new Int32Array(SLOTS * 2);

const rd16 = (b: Uint8Array, o: number, netOrder = false): number =>
  (netOrder || !HOST_LE ? (b[o]! << 8) | b[o + 1]! : b[o]! | (b[o + 1]! << 8));
const rd32 = (b: Uint8Array, o: number, netOrder = false): number =>
  (netOrder || !HOST_LE
    ? ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0
    : (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0);

/** Index the attributes in b[start, end) into `at`; false when malformed (as decodeAttrs would fail). */
function indexAttrs(b: Uint8Array, start: number, end: number, at: Int32Array): boolean {
  at.fill(-1);
  let off = start;
  while (off + 4 <= end) {
    const len = rd16(b, off);
    const type = rd16(b, off + 2) & NLA_TYPE_MASK;
    if (len < 4 || off + len > end) return false;
    if (type < SLOTS) {
      at[2 * type] = off + 4;
      at[2 * type + 1] = len - 4;
    }
    off += (len + 3) & ~3;
  }
  return true;
}
const has = (at: Int32Array, t: number): boolean => at[2 * t]! >= 0;
/** readU32 / readU16 / readU8 of an attribute: null when absent or too short. */
function get32(b: Uint8Array, at: Int32Array, t: number, netOrder = false): number | null {
  return at[2 * t]! >= 0 && at[2 * t + 1]! >= 4 ? rd32(b, at[2 * t]!, netOrder) : null;
}
function get16(b: Uint8Array, at: Int32Array, t: number, netOrder = false): number | null {
  return at[2 * t]! >= 0 && at[2 * t + 1]! >= 2 ? rd16(b, at[2 * t]!, netOrder) : null;
}
const TEXT_DECODER = new TextDecoder();
/** readStr: up to the first NUL, UTF-8. */
function getStr(b: Uint8Array, at: Int32Array, t: number): string {
  const start = at[2 * t]!;
  const end = start + at[2 * t + 1]!;
  let s = '';
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 0) return s;
    if (c >= 0x80) {
      const nul = b.subarray(start, end).indexOf(0);
      return TEXT_DECODER.decode(b.subarray(start, nul < 0 ? end : start + nul));
    }
    s += String.fromCharCode(c);
  }
  return s;
}
/** addrOf: the first 4 or 16 bytes of an address attribute, as text. */
function getAddr(b: Uint8Array, at: Int32Array, t: number, family: Family): string | null {
  const o = at[2 * t]!;
  const n = family === 4 ? 4 : 16;
  if (o < 0 || at[2 * t + 1]! < n) return null;
  return n === 4 ? `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}` : bytesToAddress(b.subarray(o, o + 16));
}

/** Stats from an indexed stats attribute (value at [start, start + len)); all zero when absent or malformed. */
function statsAt(b: Uint8Array, start: number, len: number): Stats {
  const v = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  if (start >= 0 && indexAttrs(b, start, start + len, STATS)) {
    for (let i = 0; i < 10; i++) {
      const o = STATS[2 * (i + 1)]!;
      const l = STATS[2 * (i + 1) + 1]!;
      if (o < 0) continue;
      // u64 by size, as readU64 then Number(): hi * 2^32 is exact, the sum rounds once, as Number(bigint) does.
      if (l >= 8) v[i] = HOST_LE ? rd32(b, o + 4) * 4294967296 + rd32(b, o) : rd32(b, o) * 4294967296 + rd32(b, o + 4);
      else if (l >= 4) v[i] = rd32(b, o);
    }
  }
  return {
    conns: v[0]!, inPkts: v[1]!, outPkts: v[2]!, inBytes: v[3]!, outBytes: v[4]!,
    cps: v[5]!, inPps: v[6]!, outPps: v[7]!, inBps: v[8]!, outBps: v[9]!,
  };
}

/** Counters of IPVS_*_ATTR_STATS (u32 and u64) or _STATS64 (all u64): read by size. */
export function decodeStats(value: Uint8Array | undefined): Stats {
  return value ? statsAt(value, 0, value.length) : statsAt(NO_BYTES, -1, 0);
}
const NO_BYTES = new Uint8Array(0);

/** The value range of the attribute `t` at the top level, indexed into INNER; false when absent or malformed. */
function openNested(b: Uint8Array, t: number): boolean {
  if (!indexAttrs(b, 0, b.length, TOP) || !has(TOP, t)) return false;
  return indexAttrs(b, TOP[2 * t]!, TOP[2 * t]! + TOP[2 * t + 1]!, INNER);
}

/** Which stats attribute: STATS64 when present, else STATS (as `m.get(STATS64) ?? m.get(STATS)`). */
function statsOf(b: Uint8Array, at: Int32Array, t64: number, t32: number): Stats {
  const t = has(at, t64) ? t64 : t32;
  return statsAt(b, at[2 * t]!, at[2 * t + 1]!);
}

/** A service from an IPVS_CMD_NEW_SERVICE reply (dump entry); `dests` is left empty. */
export function decodeService(attrs: Uint8Array): Result<ServiceEntry> {
  if (!openNested(attrs, IPVS_CMD_ATTR_SERVICE)) return decodeServiceSlow(attrs);
  const m = INNER;
  const family = familyOf(get16(attrs, m, IPVS_SVC_ATTR_AF));
  if (!family) return decodeServiceSlow(attrs);
  let netmask = family === 4 ? 32 : 128;
  if (has(m, IPVS_SVC_ATTR_NETMASK) && m[2 * IPVS_SVC_ATTR_NETMASK + 1]! >= 4) {
    if (family === 6) netmask = get32(attrs, m, IPVS_SVC_ATTR_NETMASK)!;
    else {
      let mask = get32(attrs, m, IPVS_SVC_ATTR_NETMASK, true)!;
      netmask = 0;
      while (mask & 0x80000000) {
        netmask += 1;
        mask = (mask << 1) >>> 0;
      }
    }
  }
  const options: ServiceOptions = {
    scheduler: has(m, IPVS_SVC_ATTR_SCHED_NAME) ? getStr(attrs, m, IPVS_SVC_ATTR_SCHED_NAME) : '',
    flags: (get32(attrs, m, IPVS_SVC_ATTR_FLAGS) ?? 0) & ~IP_VS_SVC_F_HASHED,
    timeout: get32(attrs, m, IPVS_SVC_ATTR_TIMEOUT) ?? 0,
    netmask,
  };
  if (has(m, IPVS_SVC_ATTR_PE_NAME)) options.pe = getStr(attrs, m, IPVS_SVC_ATTR_PE_NAME);
  const fwmark = get32(attrs, m, IPVS_SVC_ATTR_FWMARK);
  const proto = get16(attrs, m, IPVS_SVC_ATTR_PROTOCOL);
  const protocol = proto === null ? undefined : PROTOCOL_BY_NUMBER.get(proto);
  const address = fwmark ? null : getAddr(attrs, m, IPVS_SVC_ATTR_ADDR, family);
  const port = fwmark ? null : get16(attrs, m, IPVS_SVC_ATTR_PORT, true);
  if (!fwmark && (!protocol || address === null || port === null)) return decodeServiceSlow(attrs);
  const stats = statsOf(attrs, m, IPVS_SVC_ATTR_STATS64, IPVS_SVC_ATTR_STATS);
  if (fwmark) return { ok: true, value: { family, fwmark, ...options, stats, dests: [] } };
  return { ok: true, value: { family, protocol: protocol!, address: address!, port: port!, ...options, stats, dests: [] } };
}

/** A destination from an IPVS_CMD_NEW_DEST reply; `serviceFamily` applies when the kernel omits ADDR_FAMILY (< 3.18). */
export function decodeDest(attrs: Uint8Array, serviceFamily: Family): Result<DestEntry> {
  if (!openNested(attrs, IPVS_CMD_ATTR_DEST)) return decodeDestSlow(attrs, serviceFamily);
  const m = INNER;
  const family = familyOf(get16(attrs, m, IPVS_DEST_ATTR_ADDR_FAMILY)) ?? serviceFamily;
  const address = getAddr(attrs, m, IPVS_DEST_ATTR_ADDR, family);
  const port = get16(attrs, m, IPVS_DEST_ATTR_PORT, true);
  if (address === null || port === null) return decodeDestSlow(attrs, serviceFamily);
  const d: DestEntry = {
    address, family, port,
    forwarding: FORWARDING[(get32(attrs, m, IPVS_DEST_ATTR_FWD_METHOD) ?? 0) & IP_VS_CONN_F_FWD_MASK] ?? 'nat',
    weight: get32(attrs, m, IPVS_DEST_ATTR_WEIGHT) ?? 0,
    upperThreshold: get32(attrs, m, IPVS_DEST_ATTR_U_THRESH) ?? 0,
    lowerThreshold: get32(attrs, m, IPVS_DEST_ATTR_L_THRESH) ?? 0,
    activeConns: get32(attrs, m, IPVS_DEST_ATTR_ACTIVE_CONNS) ?? 0,
    inactConns: get32(attrs, m, IPVS_DEST_ATTR_INACT_CONNS) ?? 0,
    persistConns: get32(attrs, m, IPVS_DEST_ATTR_PERSIST_CONNS) ?? 0,
    stats: statsOf(attrs, m, IPVS_DEST_ATTR_STATS64, IPVS_DEST_ATTR_STATS), // own index table: INNER stays this dest's
  };
  const tt = m[2 * IPVS_DEST_ATTR_TUN_TYPE]!;
  if (tt >= 0) d.tunType = TUN_TYPES[m[2 * IPVS_DEST_ATTR_TUN_TYPE + 1]! >= 1 ? attrs[tt]! : 0] ?? 'ipip';
  const tp = get16(attrs, m, IPVS_DEST_ATTR_TUN_PORT, true);
  if (tp !== null) d.tunPort = tp;
  const tf = get16(attrs, m, IPVS_DEST_ATTR_TUN_FLAGS);
  if (tf !== null) d.tunFlags = tf;
  return { ok: true, value: d };
}

/** A running sync daemon from an IPVS_CMD_NEW_DAEMON dump entry (Linux 4.3+ adds maxlen, group, port, TTL). */
export function decodeDaemon(attrs: Uint8Array): Result<DaemonSpec> {
  const r = nested(attrs, IPVS_CMD_ATTR_DAEMON, 'daemon');
  if (!r.ok) return r;
  const m = r.value;
  const st = u32(m, IPVS_DAEMON_ATTR_STATE);
  const ifn = m.get(IPVS_DAEMON_ATTR_MCAST_IFN);
  if ((st !== IP_VS_STATE_MASTER && st !== IP_VS_STATE_BACKUP) || !ifn) return fail(`daemon: state ${st} or interface missing`);
  const d: DaemonSpec = { state: st === IP_VS_STATE_MASTER ? 'master' : 'backup', interface: readStr(ifn.value), syncId: u32(m, IPVS_DAEMON_ATTR_SYNC_ID) ?? 0 };
  const maxLen = u16(m, IPVS_DAEMON_ATTR_SYNC_MAXLEN);
  if (maxLen !== null) d.maxLen = maxLen;
  const g4 = m.get(IPVS_DAEMON_ATTR_MCAST_GROUP)?.value;
  const g6 = m.get(IPVS_DAEMON_ATTR_MCAST_GROUP6)?.value;
  if (g6?.length === 16) d.group = bytesToAddress(g6);
  else if (g4?.length === 4) d.group = bytesToAddress(g4);
  const port = u16(m, IPVS_DAEMON_ATTR_MCAST_PORT);
  if (port !== null) d.port = port;
  const ttl = m.get(IPVS_DAEMON_ATTR_MCAST_TTL);
  if (ttl) d.ttl = readU8(ttl.value) ?? 0;
  return { ok: true, value: d };
}

/** The IPVS_CMD_SET_INFO reply to GET_INFO (attributes at the top level). */
export function decodeInfo(attrs: Uint8Array): Result<IpvsInfo> {
  const top = decodeAttrs(attrs);
  if (!top.ok) return fail(`info: ${top.error}`);
  const m = attrMap(top.value);
  const versionCode = u32(m, IPVS_INFO_ATTR_VERSION);
  const connTableSize = u32(m, IPVS_INFO_ATTR_CONN_TAB_SIZE);
  if (versionCode === null || connTableSize === null) return fail('info: version or connection table size missing');
  const version = `${(versionCode >> 16) & 0xff}.${(versionCode >> 8) & 0xff}.${versionCode & 0xff}`; // NVERSION()
  return { ok: true, value: { versionCode, version, connTableSize } };
}

// ---------------------------------------------------------------------------------------------
// Labels for logs and errors, in ipvsadm's spelling.

const hostPort = (address: string, family: Family, port: number): string => (family === 6 ? `[${address}]:${port}` : `${address}:${port}`);

/** "fwmark 100", "fwmark 100 IPv6", "tcp 192.168.1.100:80", "udp [2001:db8::1]:53". */
export function serviceLabel(id: ServiceId): string {
  if (isFwmark(id)) return `fwmark ${id.fwmark}${id.family === 6 ? ' IPv6' : ''}`;
  return `${id.protocol} ${hostPort(id.address, id.family, id.port)}`;
}

/** "192.168.1.10:80", "[2001:db8::10]:80". */
export const destLabel = (d: DestId): string => hostPort(d.address, d.family, d.port);
