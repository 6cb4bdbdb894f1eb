// IPv4/IPv6 header parsing and the IPv4 header vrrpd builds for its adverts (keepalived's layout).
import { internetChecksum, checksumVerifies } from './checksum.js';
import type { Family } from './addr.js';
import { IPPROTO_VRRP, VRRP_TTL } from './advert.js';

export interface IpPacket {
  family: Family;
  src: Uint8Array;
  dst: Uint8Array;
  /** IPv4 TTL or IPv6 hop limit. */
  ttl: number;
  /** IPv4 TOS byte or IPv6 traffic class. */
  tos: number;
  protocol: number;
  /** IPv4 identification (0 for IPv6). */
  id: number;
  dontFragment: boolean;
  /** IPv4 header checksum verifies (always true for IPv6, which has none). */
  headerChecksumOk: boolean;
  payload: Uint8Array;
}

export type IpParseResult = { ok: true; packet: IpPacket } | { ok: false; detail: string };

const IPV6_EXT_HEADERS = new Set([0, 43, 60]); // hop-by-hop, routing, destination options

/** Parse an IPv4 or IPv6 packet. Never throws. Trailing bytes past the IP length (padding) are cut. */
export function parseIpPacket(bytes: Uint8Array): IpParseResult {
  if (bytes.length < 1) return { ok: false, detail: 'empty packet' };
  const version = bytes[0]! >> 4;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (version === 4) {
    if (bytes.length < 20) return { ok: false, detail: `IPv4 packet of ${bytes.length} bytes` };
    const ihl = (bytes[0]! & 0x0f) * 4;
    const total = dv.getUint16(2);
    if (ihl < 20 || total < ihl || total > bytes.length) {
      return { ok: false, detail: `IPv4 header length ${ihl}, total length ${total}, have ${bytes.length}` };
    }
    const flags = dv.getUint16(6);
    if ((flags & 0x2000) !== 0 || (flags & 0x1fff) !== 0) return { ok: false, detail: 'IPv4 fragment' };
    return {
      ok: true,
      packet: {
        family: 4,
        src: bytes.slice(12, 16),
        dst: bytes.slice(16, 20),
        ttl: bytes[8]!,
        tos: bytes[1]!,
        protocol: bytes[9]!,
        id: dv.getUint16(4),
        dontFragment: (flags & 0x4000) !== 0,
        headerChecksumOk: checksumVerifies([bytes.subarray(0, ihl)]),
        payload: bytes.slice(ihl, total),
      },
    };
  }
  if (version === 6) {
    if (bytes.length < 40) return { ok: false, detail: `IPv6 packet of ${bytes.length} bytes` };
    const payloadLen = dv.getUint16(4);
    if (40 + payloadLen > bytes.length) return { ok: false, detail: `IPv6 payload length ${payloadLen} past the end` };
    let next = bytes[6]!;
    let off = 40;
    const end = 40 + payloadLen;
    // Skip extension headers (bounded: each is at least 8 bytes).
    while (IPV6_EXT_HEADERS.has(next)) {
      if (off + 8 > end) return { ok: false, detail: 'truncated IPv6 extension header' };
      const hdrNext = bytes[off]!;
      off += (bytes[off + 1]! + 1) * 8;
      next = hdrNext;
    }
    if (off > end) return { ok: false, detail: 'truncated IPv6 extension header' };
    return {
      ok: true,
      packet: {
        family: 6,
        src: bytes.slice(8, 24),
        dst: bytes.slice(24, 40),
        ttl: bytes[7]!,
        tos: ((dv.getUint16(0) >> 4) & 0xff),
        protocol: next,
        id: 0,
        dontFragment: false,
        headerChecksumOk: true,
        payload: bytes.slice(off, end),
      },
    };
  }
  return { ok: false, detail: `IP version ${version}` };
}

/** DSCP CS6 (network control), as keepalived and RFC 5798 §5.1.1 practice use for adverts. */
export const VRRP_TOS = 0xc0;

export interface Ipv4HeaderSpec {
  src: Uint8Array;
  dst: Uint8Array;
  payloadLength: number;
  id: number;
  ttl?: number;
  tos?: number;
  protocol?: number;
  dontFragment?: boolean;
}

/** A 20-byte IPv4 header (no options) with its checksum, as keepalived writes with IP_HDRINCL. */
export function buildIpv4Header(spec: Ipv4HeaderSpec): Uint8Array {
  const h = new Uint8Array(20);
  const dv = new DataView(h.buffer);
  h[0] = 0x45;
  h[1] = spec.tos ?? VRRP_TOS;
  dv.setUint16(2, 20 + spec.payloadLength);
  dv.setUint16(4, spec.id & 0xffff);
  dv.setUint16(6, spec.dontFragment ? 0x4000 : 0);
  h[8] = spec.ttl ?? VRRP_TTL;
  h[9] = spec.protocol ?? IPPROTO_VRRP;
  h.set(spec.src, 12);
  h.set(spec.dst, 16);
  dv.setUint16(10, internetChecksum([h]));
  return h;
}
