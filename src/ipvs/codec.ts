// IPVS generic netlink codec, pure: IPVS_CMD_* request attributes and reply parsing, per linux/uapi/linux/ip_vs.h.
// Layouts follow net/netfilter/ipvs/ip_vs_ctl.c (ip_vs_*_policy, ip_vs_genl_fill_*) and ipvsadm's libipvs.
import {
  attrMap, decodeAttrs, encodeAttrs, nlaBytes, nlaNest, nlaStr, nlaU16, nlaU32, nlaU8, readStr, readU16, readU32, readU64,
  readU8, HOST_LE, type NlAttr, type NlAttrIn, type Result,
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

const u16ok = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffff;
const u32ok = (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
const afOf = (f: Family): number => (f === 4 ? AF_INET : AF_INET6);

function check(ok: boolean, what: string): void {
  if (!ok) throw new RangeError(what);
}

/** union nf_inet_addr: 16 bytes, an IPv4 address in the first 4 (as ipvsadm sends it). */
export function inetAddr(address: string, family: Family): Uint8Array {
  const b = addressToBytes(address, family);
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

export const newServiceRequest = (s: ServiceSpec) => req(IPVS_CMD_NEW_SERVICE, [serviceAttr(s, true)]);
export const setServiceRequest = (s: ServiceSpec) => req(IPVS_CMD_SET_SERVICE, [serviceAttr(s, true)]);
export const delServiceRequest = (id: ServiceId) => req(IPVS_CMD_DEL_SERVICE, [serviceAttr(id, false)]);
/** A dump of every service of the namespace, or one service (doit) when `id` is given. */
export const getServiceRequest = (id?: ServiceId) => (id ? req(IPVS_CMD_GET_SERVICE, [serviceAttr(id, false)]) : req(IPVS_CMD_GET_SERVICE, [], true));
export const newDestRequest = (svc: ServiceId, d: DestSpec) => req(IPVS_CMD_NEW_DEST, [serviceAttr(svc, false), destAttr(d, svc.family, true)]);
export const setDestRequest = (svc: ServiceId, d: DestSpec) => req(IPVS_CMD_SET_DEST, [serviceAttr(svc, false), destAttr(d, svc.family, true)]);
export const delDestRequest = (svc: ServiceId, d: DestId) => req(IPVS_CMD_DEL_DEST, [serviceAttr(svc, false), destAttr(d, svc.family, false)]);
/** A dump of one service's destinations (GET_DEST has only a dumpit). */
export const getDestRequest = (svc: ServiceId) => req(IPVS_CMD_GET_DEST, [serviceAttr(svc, false)], true);
export const newDaemonRequest = (d: DaemonSpec) => req(IPVS_CMD_NEW_DAEMON, [daemonAttr(d, true)]);
export const delDaemonRequest = (state: SyncState) => req(IPVS_CMD_DEL_DAEMON, [daemonAttr({ state }, false)]);
export const getDaemonRequest = () => req(IPVS_CMD_GET_DAEMON, [], true);
export const getInfoRequest = () => req(IPVS_CMD_GET_INFO, []);
/** Zero the counters of one service, or of all without `id`. */
export const zeroRequest = (id?: ServiceId) => req(IPVS_CMD_ZERO, id ? [serviceAttr(id, false)] : []);
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

/** Counters of IPVS_*_ATTR_STATS (u32 and u64) or _STATS64 (all u64): read by size. */
export function decodeStats(value: Uint8Array | undefined): Stats {
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

/** A service from an IPVS_CMD_NEW_SERVICE reply (dump entry); `dests` is left empty. */
export function decodeService(attrs: Uint8Array): Result<ServiceEntry> {
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
  const stats = decodeStats((m.get(IPVS_SVC_ATTR_STATS64) ?? m.get(IPVS_SVC_ATTR_STATS))?.value);
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

/** A destination from an IPVS_CMD_NEW_DEST reply; `serviceFamily` applies when the kernel omits ADDR_FAMILY (< 3.18). */
export function decodeDest(attrs: Uint8Array, serviceFamily: Family): Result<DestEntry> {
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
    stats: decodeStats((m.get(IPVS_DEST_ATTR_STATS64) ?? m.get(IPVS_DEST_ATTR_STATS))?.value),
  };
  const tt = m.get(IPVS_DEST_ATTR_TUN_TYPE);
  if (tt) d.tunType = TUN_TYPES[readU8(tt.value) ?? 0] ?? 'ipip';
  const tp = u16(m, IPVS_DEST_ATTR_TUN_PORT, true);
  if (tp !== null) d.tunPort = tp;
  const tf = u16(m, IPVS_DEST_ATTR_TUN_FLAGS);
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
