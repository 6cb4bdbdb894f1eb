// `vrrpd decode` core: IP packet bytes or hex text -> a per-packet VRRP report with its RFC verdict; pure.
import { bytesToAddress, type Family } from '../protocol/addr.js';
import {
  AUTH_DATA_LEN, AUTH_NONE, AUTH_SIMPLE, IPPROTO_VRRP, VRRP_HEADER_LEN, authDataText, decodeAdvert,
  type Advert, type ChecksumForm, type RxContext,
} from '../protocol/advert.js';
import type { DropReason } from '../protocol/drop.js';
import { parseIpPacket } from '../protocol/ip.js';
import { LINKTYPE_ETHERNET, frameToIp } from './pcap.js';

/** One decoded VRRP packet. Plain data (strings and numbers) so it serialises to JSON as is. */
export interface PacketReport {
  /** Frame number in the capture (1-based). */
  index?: number;
  /** Capture timestamp, seconds since the epoch. */
  time?: number;
  /** Seconds since the first frame of the capture. */
  relTime?: number;
  /** Link-layer source address, when the capture has one. */
  srcMac?: string | null;
  /** IP family; null only when the IP header is unreadable. */
  family: Family | null;
  src: string | null;
  dst: string | null;
  /** IPv4 TTL / IPv6 hop limit. */
  ttl: number | null;
  /** IPv4 TOS / IPv6 traffic class. */
  tos: number | null;
  ipId: number | null;
  dontFragment: boolean | null;
  /** IPv4 header checksum verifies (true for IPv6, which has none). */
  ipHeaderChecksumOk: boolean | null;
  /** VRRP header fields: null when the packet is too short to hold them. */
  version: number | null;
  vrid: number | null;
  priority: number | null;
  count: number | null;
  /** Advertisement interval in centiseconds (v2 seconds × 100). */
  intervalCs: number | null;
  /** "1 s" (v2) or "100 cs (1 s)" (v3). */
  intervalText: string | null;
  addresses: string[];
  /** v2 auth type (0 none, 1 simple text, 2 IP AH); null for v3. */
  authType: number | null;
  /** v2 simple-text password, printable (NULs stripped, other bytes as '.'); null otherwise. */
  authText: string | null;
  /** The checksum field, e.g. "0x1a2b". */
  checksum: string | null;
  /**
   * The form that made the checksum verify ('vrrp', 'pseudo-header', 'no-pseudo-header' or
   * 'pseudo-header-mcast-dst'); null when none did (or the check was not reached).
   */
  checksumForm: ChecksumForm | null;
  verdict: 'ok' | DropReason;
  /** Why the verdict is what it is, and hints for interop debugging. */
  detail: string;
}

/** decodePacketBytes' answer: a VRRP report, or the IP protocol of a packet that is not VRRP. */
export type PacketDecode =
  | { kind: 'vrrp'; report: PacketReport }
  | { kind: 'not-vrrp'; protocol: number; family: Family; src: string; dst: string };

function hex16(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

function seconds(cs: number): string {
  return `${cs / 100} s`;
}

export function intervalText(version: number, intervalCs: number): string {
  return version === 2 ? seconds(intervalCs) : `${intervalCs} cs (${seconds(intervalCs)})`;
}

function emptyReport(verdict: DropReason, detail: string): PacketReport {
  return {
    family: null, src: null, dst: null, ttl: null, tos: null, ipId: null, dontFragment: null,
    ipHeaderChecksumOk: null, version: null, vrid: null, priority: null, count: null, intervalCs: null,
    intervalText: null, addresses: [], authType: null, authText: null, checksum: null, checksumForm: null,
    verdict, detail,
  };
}

/** What an IP packet's protocol field says, read without validating the rest (to skip non-VRRP traffic). */
function rawProtocol(bytes: Uint8Array): number | null {
  const v = bytes.length > 0 ? bytes[0]! >> 4 : 0;
  if (v === 4 && bytes.length >= 20) return bytes[9]!;
  if (v === 6 && bytes.length >= 40) return bytes[6]!;
  return null;
}

/** VRRP header fields read straight off the wire, for packets decodeAdvert refused before parsing. */
function rawVrrpFields(vrrp: Uint8Array, family: Family): Partial<PacketReport> {
  if (vrrp.length < VRRP_HEADER_LEN) return {};
  const version = vrrp[0]! >> 4;
  const intervalCs = version === 2 ? vrrp[5]! * 100 : version === 3 ? ((vrrp[4]! << 8) | vrrp[5]!) & 0x0fff : null;
  const out: Partial<PacketReport> = {
    version, vrid: vrrp[1]!, priority: vrrp[2]!, count: vrrp[3]!, intervalCs,
    intervalText: intervalCs === null ? null : intervalText(version, intervalCs),
    authType: version === 2 ? vrrp[4]! : null,
    checksum: hex16((vrrp[6]! << 8) | vrrp[7]!),
  };
  // The addresses that fit (the length check may have failed), before v2's trailing auth data.
  const addrLen = family === 4 ? 4 : 16;
  const end = vrrp.length - (version === 2 ? AUTH_DATA_LEN : 0);
  const addresses: string[] = [];
  for (let i = 0; i < vrrp[3]! && VRRP_HEADER_LEN + (i + 1) * addrLen <= end; i++) {
    const off = VRRP_HEADER_LEN + i * addrLen;
    addresses.push(bytesToAddress(vrrp.subarray(off, off + addrLen)));
  }
  out.addresses = addresses;
  return out;
}

function advertFields(a: Advert): Partial<PacketReport> {
  const v2 = a.version === 2;
  return {
    version: a.version, vrid: a.vrid, priority: a.priority, count: a.count, intervalCs: a.intervalCs,
    intervalText: intervalText(a.version, a.intervalCs), addresses: a.addresses,
    authType: v2 ? a.authType : null,
    authText: v2 && a.authType === AUTH_SIMPLE && a.authData ? authDataText(a.authData) : null,
    checksum: hex16(a.checksum),
  };
}

/** Decode one IP packet (IPv4 or IPv6, starting at the IP header). Never throws. */
export function decodePacketBytes(bytes: Uint8Array): PacketDecode {
  const parsed = parseIpPacket(bytes);
  if (!parsed.ok) {
    const proto = rawProtocol(bytes);
    if (proto !== null && proto !== IPPROTO_VRRP) {
      const v6 = bytes[0]! >> 4 === 6;
      return {
        kind: 'not-vrrp', protocol: proto, family: v6 ? 6 : 4,
        src: bytesToAddress(v6 ? bytes.subarray(8, 24) : bytes.subarray(12, 16)),
        dst: bytesToAddress(v6 ? bytes.subarray(24, 40) : bytes.subarray(16, 20)),
      };
    }
    const v = bytes.length > 0 ? bytes[0]! >> 4 : 0;
    const short = bytes.length < (v === 6 ? 40 : 20);
    const report = emptyReport(short ? 'short-packet' : 'bad-ip-header', parsed.detail);
    if (!short && (v === 4 || v === 6)) {
      report.family = v;
      report.src = bytesToAddress(v === 6 ? bytes.subarray(8, 24) : bytes.subarray(12, 16));
      report.dst = bytesToAddress(v === 6 ? bytes.subarray(24, 40) : bytes.subarray(16, 20));
      report.ttl = v === 6 ? bytes[7]! : bytes[8]!;
    }
    return { kind: 'vrrp', report };
  }
  const ip = parsed.packet;
  const src = bytesToAddress(ip.src);
  const dst = bytesToAddress(ip.dst);
  if (ip.protocol !== IPPROTO_VRRP) return { kind: 'not-vrrp', protocol: ip.protocol, family: ip.family, src, dst };
  const ctx: RxContext = { family: ip.family, src: ip.src, dst: ip.dst, ttl: ip.ttl };
  const res = decodeAdvert(ip.payload, ctx);
  const report: PacketReport = {
    ...emptyReport('bad-ip-header', ''),
    family: ip.family, src, dst, ttl: ip.ttl, tos: ip.tos, ipId: ip.family === 4 ? ip.id : null,
    dontFragment: ip.family === 4 ? ip.dontFragment : null, ipHeaderChecksumOk: ip.headerChecksumOk,
  };
  // Every failed check, in the order a receiver meets them: the first is the verdict.
  const problems: { reason: DropReason; detail: string }[] = [];
  const hints: string[] = [];
  if (!ip.headerChecksumOk) {
    problems.push({ reason: 'bad-ip-header', detail: 'IPv4 header checksum does not verify (the kernel drops it)' });
  }
  if (res.ok) {
    Object.assign(report, advertFields(res.advert), { checksumForm: res.advert.checksumForm });
  } else {
    Object.assign(report, res.advert ? advertFields(res.advert) : rawVrrpFields(ip.payload, ip.family));
    problems.push({ reason: res.reason, detail: res.detail });
    if (res.reason === 'bad-ttl') {
      // decodeAdvert stops at the TTL; say what the remaining checks (checksum, interval) make of it.
      const rest = decodeAdvert(ip.payload, { ...ctx, ttl: 255 });
      if (rest.ok || rest.reason === 'interval-out-of-range') report.checksumForm = rest.advert?.checksumForm ?? null;
      if (!rest.ok) problems.push({ reason: rest.reason, detail: rest.detail });
    } else if (res.reason === 'interval-out-of-range' && res.advert) {
      report.checksumForm = res.advert.checksumForm; // decided before the interval check
    }
  }
  if (report.checksumForm === 'pseudo-header-mcast-dst') {
    hints.push('checksum uses 224.0.0.18 as the pseudo-header destination of a unicast advert, '
      + 'as old keepalived and its old_unicast_checksum do: not RFC 5798, accepted for interop');
  }
  if (report.version === 2 && report.authType !== null && report.authType !== AUTH_NONE
    && report.authType !== AUTH_SIMPLE) {
    hints.push(`auth type ${report.authType}${report.authType === 2 ? ' (IP AH, RFC 2338; not supported)' : ''}`);
  }
  const [first, ...others] = problems;
  report.verdict = first?.reason ?? 'ok';
  const notes = [
    ...(first ? [first.detail] : []),
    ...others.map((p) => `also ${p.reason}: ${p.detail}`),
    ...hints,
  ];
  report.detail = notes.join('; ');
  return { kind: 'vrrp', report };
}

export type HexParse = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

const DUMP_LINE = /^\s*0x[0-9a-f]+:\s+(.*)$/i;

/**
 * Hex text to bytes: spaces, colons, dots, dashes and newlines between digits are ignored, as is a
 * leading 0x. tcpdump -x / -xx / -X output is accepted too: only its "0x0010:" lines are read, without
 * the offsets and the -X ASCII column.
 */
export function parseHex(text: string): HexParse {
  const dump = text.split(/\r?\n/).flatMap((l) => {
    const m = DUMP_LINE.exec(l);
    return m ? [m[1]!.trim().split(/ {2,}|\t/)[0]!] : [];
  });
  const body = dump.length > 0 ? dump.join(' ') : text.trim().replace(/^0x/i, '');
  const cleaned = body.replace(/[\s:.-]+/g, '');
  if (cleaned.length === 0) return { ok: false, error: 'no hex digits' };
  const bad = /[^0-9a-f]/i.exec(cleaned);
  if (bad) return { ok: false, error: `not a hex digit: ${JSON.stringify(bad[0])}` };
  if (cleaned.length % 2 !== 0) return { ok: false, error: `odd number of hex digits (${cleaned.length})` };
  const bytes = new Uint8Array(cleaned.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(cleaned.slice(2 * i, 2 * i + 2), 16);
  return { ok: true, bytes };
}

export type HexDecode = { ok: true; report: PacketReport } | { ok: false; error: string };

/**
 * Decode one packet given as hex: an IP packet when the first nibble is 4 or 6, otherwise an
 * Ethernet frame (VLAN tags allowed). A packet that is not VRRP is an error.
 */
export function decodeHex(text: string): HexDecode {
  const hex = parseHex(text);
  if (!hex.ok) return hex;
  const nibble = hex.bytes[0]! >> 4;
  let ipBytes = hex.bytes;
  let srcMac: string | null | undefined;
  if (nibble !== 4 && nibble !== 6) {
    const frame = frameToIp(LINKTYPE_ETHERNET, hex.bytes);
    if (!frame) {
      return { ok: false, error: 'neither an IP packet (first nibble 4 or 6) nor an Ethernet frame carrying IPv4/IPv6' };
    }
    ipBytes = frame.ip;
    srcMac = frame.srcMac;
  }
  const d = decodePacketBytes(ipBytes);
  if (d.kind === 'not-vrrp') {
    return { ok: false, error: `not a VRRP packet: IP protocol ${d.protocol} (VRRP is ${IPPROTO_VRRP}), ${d.src} > ${d.dst}` };
  }
  return { ok: true, report: srcMac === undefined ? d.report : { ...d.report, srcMac } };
}

const AUTH_NAMES: Record<number, string> = { 0: 'none', 1: 'PASS', 2: 'AH' };

/** Human form, one line per packet. */
export function formatReport(r: PacketReport): string {
  const parts: string[] = [];
  if (r.index !== undefined) parts.push(`#${r.index}`);
  const t = r.relTime ?? r.time;
  if (t !== undefined) parts.push(t.toFixed(6));
  parts.push(`${r.src ?? '?'} > ${r.dst ?? '?'}`);
  if (r.ttl !== null) parts.push(`ttl ${r.ttl}`);
  if (r.tos !== null) parts.push(`tos 0x${r.tos.toString(16).padStart(2, '0')}`);
  if (r.ipHeaderChecksumOk === false) parts.push('ip-csum BAD');
  if (r.version !== null) {
    parts.push(`VRRPv${r.version} vrid ${r.vrid} prio ${r.priority} count ${r.count}`);
    if (r.intervalText !== null) parts.push(`int ${r.intervalText}`);
    if (r.version === 2 && r.authType !== null) {
      const name = AUTH_NAMES[r.authType] ?? `type ${r.authType}`;
      parts.push(r.authText !== null ? `auth ${name} ${JSON.stringify(r.authText)}` : `auth ${name}`);
    }
    if (r.checksum !== null) parts.push(`csum ${r.checksum}${r.checksumForm ? ` (${r.checksumForm})` : ''}`);
    if (r.addresses.length > 0) parts.push(`addrs ${r.addresses.join(',')}`);
  }
  parts.push(r.verdict === 'ok' ? '=> ok' : `=> DROP ${r.verdict}: ${r.detail}`);
  const line = parts.join(' ');
  return r.verdict === 'ok' && r.detail ? `${line} (${r.detail})` : line;
}
