// IPVS reply decoder, pure: services, destinations, stats, sync daemons, info and config from the kernel's replies
// (net/netfilter/ipvs/ip_vs_ctl.c ip_vs_genl_fill_*). Never throws: a malformed reply is an error result.
import {
  attrMap, decodeAttrs, readStr, readU16, readU32, readU64, readU8, HOST_LE, NLA_TYPE_MASK, type NlAttr, type Result,
} from '../net/nlmsg.js';
import { bytesToAddress, type Family } from '../protocol/addr.js';
import {
  IPVS_CMD_ATTR_SERVICE, IPVS_CMD_ATTR_DEST, IPVS_CMD_ATTR_DAEMON, IPVS_CMD_ATTR_TIMEOUT_TCP, IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
  IPVS_CMD_ATTR_TIMEOUT_UDP, IPVS_SVC_ATTR_AF, IPVS_SVC_ATTR_PROTOCOL, IPVS_SVC_ATTR_ADDR, IPVS_SVC_ATTR_PORT,
  IPVS_SVC_ATTR_FWMARK, IPVS_SVC_ATTR_SCHED_NAME, IPVS_SVC_ATTR_FLAGS, IPVS_SVC_ATTR_TIMEOUT, IPVS_SVC_ATTR_NETMASK,
  IPVS_SVC_ATTR_STATS, IPVS_SVC_ATTR_PE_NAME, IPVS_SVC_ATTR_STATS64, IPVS_DEST_ATTR_ADDR, IPVS_DEST_ATTR_PORT,
  IPVS_DEST_ATTR_FWD_METHOD, IPVS_DEST_ATTR_WEIGHT, IPVS_DEST_ATTR_U_THRESH, IPVS_DEST_ATTR_L_THRESH,
  IPVS_DEST_ATTR_ACTIVE_CONNS, IPVS_DEST_ATTR_INACT_CONNS, IPVS_DEST_ATTR_PERSIST_CONNS, IPVS_DEST_ATTR_STATS,
  IPVS_DEST_ATTR_ADDR_FAMILY, IPVS_DEST_ATTR_STATS64, IPVS_DEST_ATTR_TUN_TYPE, IPVS_DEST_ATTR_TUN_PORT,
  IPVS_DEST_ATTR_TUN_FLAGS, IPVS_DAEMON_ATTR_STATE, IPVS_DAEMON_ATTR_MCAST_IFN, IPVS_DAEMON_ATTR_SYNC_ID,
  IPVS_DAEMON_ATTR_SYNC_MAXLEN, IPVS_DAEMON_ATTR_MCAST_GROUP, IPVS_DAEMON_ATTR_MCAST_GROUP6, IPVS_DAEMON_ATTR_MCAST_PORT,
  IPVS_DAEMON_ATTR_MCAST_TTL, IPVS_INFO_ATTR_VERSION, IPVS_INFO_ATTR_CONN_TAB_SIZE, IP_VS_SVC_F_HASHED,
  IP_VS_CONN_F_FWD_MASK, IP_VS_STATE_MASTER, IP_VS_STATE_BACKUP, AF_INET, AF_INET6,
} from './uapi.js';
import {
  FORWARDING, PROTOCOLS, STATS_FIELDS, TUN_TYPES, type DaemonSpec, type DestEntry, type IpvsInfo, type IpvsTimeouts,
  type Protocol, type ServiceEntry, type ServiceOptions, type Stats,
} from './types.js';

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

/** The IPVS_CMD_SET_CONFIG reply to GET_CONFIG: the three connection timeouts, in seconds (top-level attributes). */
export function decodeConfig(attrs: Uint8Array): Result<IpvsTimeouts> {
  const top = decodeAttrs(attrs);
  if (!top.ok) return fail(`config: ${top.error}`);
  const m = attrMap(top.value);
  const tcp = u32(m, IPVS_CMD_ATTR_TIMEOUT_TCP);
  const tcpFin = u32(m, IPVS_CMD_ATTR_TIMEOUT_TCP_FIN);
  const udp = u32(m, IPVS_CMD_ATTR_TIMEOUT_UDP);
  if (tcp === null || tcpFin === null || udp === null) return fail('config: a timeout is missing');
  return { ok: true, value: { tcp, tcpFin, udp } };
}
