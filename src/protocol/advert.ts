// VRRP advertisement codec: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798 / RFC 9568), build and parse.
import { addressToBytes, bytesToAddress, type Family } from './addr.js';
import { checksumVerifies, internetChecksum } from './checksum.js';
import type { DropReason } from './drop.js';

export const IPPROTO_VRRP = 112;
export const VRRP_TYPE_ADVERTISEMENT = 1; // RFC 5798 §5.2.2
export const VRRP_MCAST_V4 = '224.0.0.18'; // RFC 5798 §5.1.1.2
export const VRRP_MCAST_V6 = 'ff02::12'; // RFC 5798 §5.1.2.2
export const VRRP_TTL = 255; // RFC 5798 §5.1.1.3
const MCAST_V4_BYTES = Uint8Array.of(224, 0, 0, 18);
export const AUTH_NONE = 0; // RFC 3768 §5.3.6
export const AUTH_SIMPLE = 1; // RFC 3768 §5.3.6.1 (deprecated there, used by keepalived's PASS)
export const AUTH_DATA_LEN = 8; // RFC 3768 §5.3.10
export const VRRP_HEADER_LEN = 8;
export const V3_MAX_INTERVAL_CS = 4095; // 12-bit field, RFC 5798 §5.2.7

export type Version = 2 | 3;

/**
 * Which checksum made the packet verify.
 * 'vrrp': v2, over the VRRP message only (RFC 3768 §5.3.8).
 * 'pseudo-header': v3 with the IPv4/IPv6 pseudo-header (RFC 5798 §5.2.8; keepalived, FRR default).
 * 'no-pseudo-header': v3 IPv4 over the VRRP message only (RFC 9568 §5.2.8 note; Cisco, Juniper,
 *   keepalived's v3_checksum_as_v2).
 * 'pseudo-header-mcast-dst': v3 IPv4 unicast whose pseudo-header names 224.0.0.18 instead of the real
 *   destination (keepalived before its #642 fix, and old_unicast_checksum). Accepted on receive only.
 */
export type ChecksumForm = 'vrrp' | 'pseudo-header' | 'no-pseudo-header' | 'pseudo-header-mcast-dst';

/** A parsed advertisement; the fields mirror the wire, intervals normalised to centiseconds. */
export interface Advert {
  version: Version;
  type: number;
  vrid: number;
  priority: number;
  count: number;
  family: Family;
  /** Advertisement interval in centiseconds (v2 seconds × 100, v3 Max Advert Interval). */
  intervalCs: number;
  /** v2 Auth Type (0 for v3, which has none). */
  authType: number;
  /** v2 Authentication Data (8 bytes); null for v3. */
  authData: Uint8Array | null;
  checksum: number;
  /** The form that verified; null when the checksum was not (or could not be) verified. */
  checksumForm: ChecksumForm | null;
  addresses: string[];
}

/** What the IP layer told us about the packet: needed for the pseudo-header and the TTL rule. */
export interface RxContext {
  family: Family;
  src: Uint8Array;
  dst: Uint8Array;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl: number;
}

export type DecodeResult =
  | { ok: true; advert: Advert }
  | { ok: false; reason: DropReason; detail: string; advert?: Advert };

/** What to put in an advertisement; validated config guarantees the ranges. */
export interface AdvertSpec {
  version: Version;
  family: Family;
  vrid: number;
  priority: number;
  intervalCs: number;
  addresses: readonly string[];
  /** v2 only: 0 none, 1 simple text password. */
  authType?: 0 | 1;
  /** v2 simple password; keepalived keeps the first 8 bytes, zero-padded. */
  authPassword?: string;
  /** v3 IPv4 only: include the pseudo-header (default) or not. */
  checksumForm?: 'pseudo-header' | 'no-pseudo-header';
  /** Source and destination: needed for the v3 pseudo-header. */
  src?: string;
  dst?: string;
}

/** The 8 bytes of v2 simple-text auth data for a password (truncated, zero-padded). */
export function authDataFor(password: string): Uint8Array {
  const out = new Uint8Array(AUTH_DATA_LEN);
  out.set(new TextEncoder().encode(password).subarray(0, AUTH_DATA_LEN));
  return out;
}

/** VRRP length for a version, family and address count. */
export function advertLength(version: Version, family: Family, count: number): number {
  const addrLen = family === 4 ? 4 : 16;
  return VRRP_HEADER_LEN + addrLen * count + (version === 2 ? AUTH_DATA_LEN : 0);
}

// RFC 5798 §5.2.8 with RFC 8200 §8.1 for IPv6: the pseudo-header bytes.
function pseudoHeader(family: Family, src: Uint8Array, dst: Uint8Array, length: number): Uint8Array {
  if (family === 4) {
    const ph = new Uint8Array(12);
    ph.set(src, 0);
    ph.set(dst, 4);
    ph[9] = IPPROTO_VRRP;
    ph[10] = length >> 8;
    ph[11] = length & 0xff;
    return ph;
  }
  const ph = new Uint8Array(40);
  ph.set(src, 0);
  ph.set(dst, 16);
  new DataView(ph.buffer).setUint32(32, length);
  ph[39] = IPPROTO_VRRP;
  return ph;
}

/** Build a VRRP advertisement (the IP payload). Throws RangeError on a spec outside the RFC. */
export function encodeAdvert(spec: AdvertSpec): Uint8Array {
  const { version, family } = spec;
  if (version !== 2 && version !== 3) throw new RangeError(`VRRP version ${String(version)}`);
  if (version === 2 && family !== 4) throw new RangeError('VRRPv2 is IPv4 only (RFC 3768)');
  if (!Number.isInteger(spec.vrid) || spec.vrid < 1 || spec.vrid > 255) throw new RangeError(`VRID ${spec.vrid}`);
  if (!Number.isInteger(spec.priority) || spec.priority < 0 || spec.priority > 255) {
    throw new RangeError(`priority ${spec.priority}`);
  }
  if (spec.addresses.length > 255) throw new RangeError('more than 255 addresses');
  const len = advertLength(version, family, spec.addresses.length);
  const buf = new Uint8Array(len);
  const dv = new DataView(buf.buffer);
  buf[0] = (version << 4) | VRRP_TYPE_ADVERTISEMENT;
  buf[1] = spec.vrid;
  buf[2] = spec.priority;
  buf[3] = spec.addresses.length;
  if (version === 2) {
    // RFC 3768 §5.3.7: Adver Int in seconds.
    const seconds = spec.intervalCs / 100;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 255) {
      throw new RangeError(`VRRPv2 interval must be 1-255 whole seconds, not ${spec.intervalCs} cs`);
    }
    buf[4] = spec.authType ?? AUTH_NONE;
    buf[5] = seconds;
  } else {
    // RFC 5798 §5.2.7: 4 reserved bits, 12-bit Max Advert Interval in centiseconds.
    if (!Number.isInteger(spec.intervalCs) || spec.intervalCs < 1 || spec.intervalCs > V3_MAX_INTERVAL_CS) {
      throw new RangeError(`VRRPv3 interval must be 1-4095 cs, not ${spec.intervalCs}`);
    }
    dv.setUint16(4, spec.intervalCs & 0x0fff);
  }
  const addrLen = family === 4 ? 4 : 16;
  spec.addresses.forEach((a, i) => {
    const b = addressToBytes(a, family);
    if (!b) throw new RangeError(`not an IPv${family} address: ${a}`);
    buf.set(b, VRRP_HEADER_LEN + i * addrLen);
  });
  if (version === 2 && (spec.authType ?? AUTH_NONE) === AUTH_SIMPLE) {
    buf.set(authDataFor(spec.authPassword ?? ''), len - AUTH_DATA_LEN);
  }
  let chunks: Uint8Array[] = [buf];
  const withPseudo = version === 3 && (family === 6 || (spec.checksumForm ?? 'pseudo-header') === 'pseudo-header');
  if (withPseudo) {
    const src = spec.src !== undefined ? addressToBytes(spec.src, family) : null;
    const dst = spec.dst !== undefined ? addressToBytes(spec.dst, family) : null;
    if (!src || !dst) throw new RangeError('a VRRPv3 pseudo-header checksum needs src and dst addresses');
    chunks = [pseudoHeader(family, src, dst, len), buf];
  }
  dv.setUint16(6, internetChecksum(chunks));
  return buf;
}

/** 224.0.0.0/4 or ff00::/8. */
export function isMulticast(addr: Uint8Array): boolean {
  return addr.length === 4 ? (addr[0]! & 0xf0) === 0xe0 : addr[0] === 0xff;
}

function fail(reason: DropReason, detail: string, advert?: Advert): DecodeResult {
  return advert ? { ok: false, reason, detail, advert } : { ok: false, reason, detail };
}

/**
 * Parse and check a received advertisement (the IP payload). Never throws: returns the advert or
 * the first RFC 5798 §7.1 / RFC 3768 §7.1 check it fails. Instance-specific checks (VRID known,
 * auth, v2 interval equality, version) are the engine's.
 */
export function decodeAdvert(vrrp: Uint8Array, ctx: RxContext): DecodeResult {
  if (vrrp.length < VRRP_HEADER_LEN) return fail('short-packet', `${vrrp.length} bytes < ${VRRP_HEADER_LEN}`);
  const version = vrrp[0]! >> 4;
  const type = vrrp[0]! & 0x0f;
  if (version !== 2 && version !== 3) return fail('bad-version', `version ${version}`);
  if (type !== VRRP_TYPE_ADVERTISEMENT) return fail('bad-type', `type ${type}`);
  const family = ctx.family;
  if (version === 2 && family !== 4) return fail('family-mismatch', 'VRRPv2 over IPv6');
  // The checksum's pseudo-header needs both IP addresses of the family (found by fuzzing: a short one threw).
  const alen = family === 4 ? 4 : 16;
  if (ctx.src.length !== alen || ctx.dst.length !== alen) {
    return fail('bad-ip-header', `IPv${family} addresses of ${ctx.src.length} and ${ctx.dst.length} bytes`);
  }
  const count = vrrp[3]!;
  const expected = advertLength(version, family, count);
  if (vrrp.length !== expected) {
    return fail('length-mismatch', `${count} addresses need ${expected} bytes, packet has ${vrrp.length}`);
  }
  const dv = new DataView(vrrp.buffer, vrrp.byteOffset, vrrp.byteLength);
  const addrLen = family === 4 ? 4 : 16;
  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    const off = VRRP_HEADER_LEN + i * addrLen;
    addresses.push(bytesToAddress(vrrp.slice(off, off + addrLen)));
  }
  const v2 = version === 2;
  const advert: Advert = {
    version,
    type,
    vrid: vrrp[1]!,
    priority: vrrp[2]!,
    count,
    family,
    intervalCs: v2 ? vrrp[5]! * 100 : dv.getUint16(4) & 0x0fff,
    authType: v2 ? vrrp[4]! : 0,
    authData: v2 ? vrrp.slice(expected - AUTH_DATA_LEN, expected) : null,
    checksum: dv.getUint16(6),
    checksumForm: null,
    addresses,
  };
  // RFC 5798 §7.1 / RFC 3768 §7.1: the TTL / hop limit must be 255. Like keepalived, applied to
  // multicast only: unicast adverts may legitimately cross a router, and IPv6 unicast uses the
  // kernel's default hop limit.
  if (isMulticast(ctx.dst) && ctx.ttl !== VRRP_TTL) return fail('bad-ttl', `TTL ${ctx.ttl} ≠ 255`, advert);
  if (v2) {
    if (!checksumVerifies([vrrp])) return fail('bad-checksum', 'VRRPv2 checksum does not verify', advert);
    advert.checksumForm = 'vrrp';
  } else {
    const ph = pseudoHeader(family, ctx.src, ctx.dst, vrrp.length);
    if (checksumVerifies([ph, vrrp])) {
      advert.checksumForm = 'pseudo-header';
    } else if (family === 4 && checksumVerifies([vrrp])) {
      advert.checksumForm = 'no-pseudo-header';
    } else if (family === 4 && !isMulticast(ctx.dst)
      && checksumVerifies([pseudoHeader(4, ctx.src, MCAST_V4_BYTES, vrrp.length), vrrp])) {
      advert.checksumForm = 'pseudo-header-mcast-dst';
    } else {
      return fail('bad-checksum', family === 4
        ? 'VRRPv3 checksum verifies neither with nor without the IPv4 pseudo-header'
        : 'VRRPv3 checksum does not verify with the IPv6 pseudo-header', advert);
    }
  }
  if (advert.intervalCs === 0) return fail('interval-out-of-range', 'advertisement interval 0', advert);
  return { ok: true, advert };
}

/** Printable form of v2 simple-text auth data (NULs stripped). */
export function authDataText(data: Uint8Array): string {
  let end = data.indexOf(0);
  if (end < 0) end = data.length;
  return Array.from(data.subarray(0, end), (c) => (c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.')).join('');
}
