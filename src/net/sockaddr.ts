// Byte layouts of the kernel's socket structs (sockaddr_*, ip_mreqn, ipv6_mreq, in6_pktinfo) and cmsg build/parse.
import { endianness } from 'node:os';
import { addressToBytes, bytesToAddress } from '../protocol/addr.js';
import { constants } from './native.js';

/** An address as text ('fe80::1', '224.0.0.18') or as 4 / 16 network-order bytes. */
export type AddressInput = string | Uint8Array;

const LE = endianness() === 'LE';

function writeU16(b: Buffer, v: number, off: number): void {
  if (LE) b.writeUInt16LE(v, off);
  else b.writeUInt16BE(v, off);
}
function writeU32(b: Buffer, v: number, off: number): void {
  if (LE) b.writeUInt32LE(v >>> 0, off);
  else b.writeUInt32BE(v >>> 0, off);
}
function readU16(b: Uint8Array, off: number): number {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return LE ? buf.readUInt16LE(off) : buf.readUInt16BE(off);
}
function readU32(b: Uint8Array, off: number): number {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return LE ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
}
function readI32(b: Uint8Array, off: number): number {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return LE ? buf.readInt32LE(off) : buf.readInt32BE(off);
}

function addr4(a: AddressInput): Uint8Array {
  const bytes = typeof a === 'string' ? addressToBytes(a, 4) : a;
  if (!bytes || bytes.length !== 4) throw new RangeError(`not an IPv4 address: ${String(a)}`);
  return bytes;
}
function addr6(a: AddressInput): Uint8Array {
  const bytes = typeof a === 'string' ? addressToBytes(a, 6) : a;
  if (!bytes || bytes.length !== 16) throw new RangeError(`not an IPv6 address: ${String(a)}`);
  return bytes;
}
function ifindexOf(i: number): number {
  if (!Number.isInteger(i) || i < 0 || i > 0x7fffffff) throw new RangeError(`bad ifindex ${i}`);
  return i;
}

export const SOCKADDR_IN_LEN = 16;
export const SOCKADDR_IN6_LEN = 28;
export const SOCKADDR_LL_LEN = 20;
export const SOCKADDR_NL_LEN = 12;
/** sizeof(struct sockaddr_un): sa_family_t and a 108-byte sun_path. */
export const SOCKADDR_UN_LEN = 110;

/** struct sockaddr_in: family (host order), port (network order), address, 8 zero bytes. */
export function sockaddrIn(address: AddressInput, port = 0): Buffer {
  const b = Buffer.alloc(SOCKADDR_IN_LEN);
  writeU16(b, constants().AF_INET, 0);
  b.writeUInt16BE(port, 2);
  b.set(addr4(address), 4);
  return b;
}

/** struct sockaddr_in6: family, port (network order), flowinfo (network order), address, scope id (host order). */
export function sockaddrIn6(address: AddressInput, scopeId = 0, port = 0, flowinfo = 0): Buffer {
  const b = Buffer.alloc(SOCKADDR_IN6_LEN);
  writeU16(b, constants().AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  b.writeUInt32BE(flowinfo >>> 0, 4);
  b.set(addr6(address), 8);
  writeU32(b, scopeId, 24);
  return b;
}

export interface SockaddrLlSpec {
  ifindex: number;
  /** Ethertype in host terms (0x0806); written in network order. */
  protocol: number;
  /** Hardware address (up to 8 bytes); halen is its length. */
  addr?: Uint8Array;
  hatype?: number;
  pkttype?: number;
}

/** struct sockaddr_ll: family, protocol (network order), ifindex, hatype, pkttype, halen, addr[8]. */
export function sockaddrLl(spec: SockaddrLlSpec): Buffer {
  const b = Buffer.alloc(SOCKADDR_LL_LEN);
  const addr = spec.addr ?? new Uint8Array(0);
  if (addr.length > 8) throw new RangeError('sll_addr holds at most 8 bytes');
  writeU16(b, constants().AF_PACKET, 0);
  b.writeUInt16BE(spec.protocol, 2);
  writeU32(b, ifindexOf(spec.ifindex), 4);
  writeU16(b, spec.hatype ?? 0, 8);
  b[10] = spec.pkttype ?? 0;
  b[11] = addr.length;
  b.set(addr, 12);
  return b;
}

/** struct sockaddr_nl: family, pad, pid, groups (all host order). */
export function sockaddrNl(pid = 0, groups = 0): Buffer {
  const b = Buffer.alloc(SOCKADDR_NL_LEN);
  writeU16(b, constants().AF_NETLINK, 0);
  writeU32(b, pid, 4);
  writeU32(b, groups, 8);
  return b;
}

/** struct ip_mreqn: multicast group, local address (0.0.0.0 for any), ifindex. */
export function ipMreqn(multiaddr: AddressInput, ifindex: number, address: AddressInput = '0.0.0.0'): Buffer {
  const b = Buffer.alloc(12);
  b.set(addr4(multiaddr), 0);
  b.set(addr4(address), 4);
  writeU32(b, ifindexOf(ifindex), 8);
  return b;
}

/** struct ipv6_mreq: group, ifindex. */
export function ipv6Mreq(multiaddr: AddressInput, ifindex: number): Buffer {
  const b = Buffer.alloc(20);
  b.set(addr6(multiaddr), 0);
  writeU32(b, ifindexOf(ifindex), 16);
  return b;
}

/** struct in6_pktinfo: address, ifindex. */
export function in6Pktinfo(address: AddressInput, ifindex: number): Buffer {
  const b = Buffer.alloc(20);
  b.set(addr6(address), 0);
  writeU32(b, ifindexOf(ifindex), 16);
  return b;
}

/** An IPV6_PKTINFO control message choosing the source address (:: for the kernel's choice) and ifindex. */
export function in6PktinfoCmsg(address: AddressInput, ifindex: number): Buffer {
  const c = constants();
  return buildCmsgs([{ level: c.IPPROTO_IPV6, type: c.IPV6_PKTINFO, data: in6Pktinfo(address, ifindex) }]);
}

export interface SockaddrInet {
  family: 4 | 6;
  address: string;
  port: number;
  /** IPv6 only (0 for IPv4). */
  scopeId: number;
}

/** Parses a sockaddr_in / sockaddr_in6; null when it is neither or is short. Never throws. */
export function parseSockaddrInet(b: Uint8Array): SockaddrInet | null {
  if (b.length < 2) return null;
  const c = constants();
  const family = readU16(b, 0);
  const port = ((b[2] ?? 0) << 8) | (b[3] ?? 0);
  if (family === c.AF_INET && b.length >= 8) {
    return { family: 4, address: bytesToAddress(b.subarray(4, 8)), port, scopeId: 0 };
  }
  if (family === c.AF_INET6 && b.length >= 24) {
    return { family: 6, address: bytesToAddress(b.subarray(8, 24)), port, scopeId: b.length >= 28 ? readU32(b, 24) : 0 };
  }
  return null;
}

export interface SockaddrLl {
  protocol: number;
  ifindex: number;
  hatype: number;
  pkttype: number;
  addr: Uint8Array;
}

/** Parses a sockaddr_ll; null when it is not one or is short. Never throws. */
export function parseSockaddrLl(b: Uint8Array): SockaddrLl | null {
  if (b.length < 12 || readU16(b, 0) !== constants().AF_PACKET) return null;
  const halen = Math.min(b[11]!, 8, b.length - 12);
  return {
    protocol: (b[2]! << 8) | b[3]!,
    ifindex: readI32(b, 4),
    hatype: readU16(b, 8),
    pkttype: b[10]!,
    addr: Uint8Array.from(b.subarray(12, 12 + halen)),
  };
}

/** Parses a sockaddr_nl; null when it is not one or is short. Never throws. */
export function parseSockaddrNl(b: Uint8Array): { pid: number; groups: number } | null {
  if (b.length < 12 || readU16(b, 0) !== constants().AF_NETLINK) return null;
  return { pid: readU32(b, 4), groups: readU32(b, 8) };
}

// ---- control messages: struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } + data, CMSG_ALIGNed.

export interface Cmsg {
  level: number;
  type: number;
  data: Uint8Array;
}

function sizeT(): number {
  return constants().sizeof_size_t;
}
/** CMSG_ALIGN: round up to the width of size_t. */
export function cmsgAlign(n: number, sizeofSizeT = sizeT()): number {
  return (n + sizeofSizeT - 1) & ~(sizeofSizeT - 1);
}
function cmsgHeaderLen(sizeofSizeT: number): number {
  return cmsgAlign(sizeofSizeT + 8, sizeofSizeT);
}
/** CMSG_LEN: header plus data, the value of cmsg_len. */
export function cmsgLen(dataLen: number, sizeofSizeT = sizeT()): number {
  return cmsgHeaderLen(sizeofSizeT) + dataLen;
}
/** CMSG_SPACE: the room one message takes in the control buffer. */
export function cmsgSpace(dataLen: number, sizeofSizeT = sizeT()): number {
  return cmsgHeaderLen(sizeofSizeT) + cmsgAlign(dataLen, sizeofSizeT);
}

/** Builds a control buffer from messages, each taking CMSG_SPACE bytes. */
export function buildCmsgs(msgs: readonly Cmsg[], sizeofSizeT = sizeT()): Buffer {
  const total = msgs.reduce((n, m) => n + cmsgSpace(m.data.length, sizeofSizeT), 0);
  const b = Buffer.alloc(total);
  let off = 0;
  for (const m of msgs) {
    const len = cmsgLen(m.data.length, sizeofSizeT);
    if (sizeofSizeT === 8) {
      if (LE) b.writeBigUInt64LE(BigInt(len), off);
      else b.writeBigUInt64BE(BigInt(len), off);
    } else {
      writeU32(b, len, off);
    }
    writeU32(b, m.level, off + sizeofSizeT);
    writeU32(b, m.type, off + sizeofSizeT + 4);
    b.set(m.data, off + cmsgHeaderLen(sizeofSizeT));
    off += cmsgSpace(m.data.length, sizeofSizeT);
  }
  return b;
}

/** Parses a control buffer (as recvmsg returned it). Stops at a malformed or truncated message. Never throws. */
export function parseCmsgs(control: Uint8Array, sizeofSizeT = sizeT()): Cmsg[] {
  const out: Cmsg[] = [];
  const hdr = cmsgHeaderLen(sizeofSizeT);
  let off = 0;
  while (off + hdr <= control.length) {
    let len: number;
    if (sizeofSizeT === 8) {
      const lo = readU32(control, off + (LE ? 0 : 4));
      const hi = readU32(control, off + (LE ? 4 : 0));
      if (hi !== 0) break;
      len = lo;
    } else {
      len = readU32(control, off);
    }
    if (len < hdr || off + len > control.length) break;
    out.push({
      level: readI32(control, off + sizeofSizeT),
      type: readI32(control, off + sizeofSizeT + 4),
      data: control.slice(off + hdr, off + len),
    });
    off += cmsgAlign(len, sizeofSizeT);
  }
  return out;
}

function find(cmsgs: readonly Cmsg[], level: number, type: number, minLen: number): Uint8Array | null {
  const m = cmsgs.find((x) => x.level === level && x.type === type);
  return m && m.data.length >= minLen ? m.data : null;
}

/** IP_TTL (from IP_RECVTTL): an int; null when absent or short. */
export function cmsgIpTtl(cmsgs: readonly Cmsg[]): number | null {
  const c = constants();
  const d = find(cmsgs, c.IPPROTO_IP, c.IP_TTL, 4);
  return d ? readI32(d, 0) : null;
}

/** IP_PKTINFO: struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }. */
export function cmsgIpPktinfo(cmsgs: readonly Cmsg[]): { ifindex: number; specDst: string; addr: string } | null {
  const c = constants();
  const d = find(cmsgs, c.IPPROTO_IP, c.IP_PKTINFO, 12);
  return d ? { ifindex: readI32(d, 0), specDst: bytesToAddress(d.subarray(4, 8)), addr: bytesToAddress(d.subarray(8, 12)) } : null;
}

/** IPV6_HOPLIMIT (from IPV6_RECVHOPLIMIT): an int; null when absent or short. */
export function cmsgIpv6HopLimit(cmsgs: readonly Cmsg[]): number | null {
  const c = constants();
  const d = find(cmsgs, c.IPPROTO_IPV6, c.IPV6_HOPLIMIT, 4);
  return d ? readI32(d, 0) : null;
}

/** IPV6_PKTINFO (from IPV6_RECVPKTINFO): struct in6_pktinfo { in6_addr; unsigned ifindex; }. */
export function cmsgIpv6Pktinfo(cmsgs: readonly Cmsg[]): { addr: string; ifindex: number } | null {
  const c = constants();
  const d = find(cmsgs, c.IPPROTO_IPV6, c.IPV6_PKTINFO, 20);
  return d ? { addr: bytesToAddress(d.subarray(0, 16)), ifindex: readU32(d, 16) } : null;
}

/**
 * struct sockaddr_un for a path, or an abstract name when it starts with "@" (systemd's NOTIFY_SOCKET
 * convention: the "@" becomes the leading NUL). The length returned is the address's own, not the
 * struct's: an abstract name is exactly its bytes, with no terminator. Throws RangeError when too long.
 */
export function sockaddrUn(path: string): Buffer {
  const abstract = path.startsWith('@');
  const name = Buffer.from(abstract ? path.slice(1) : path, 'utf8');
  const max = SOCKADDR_UN_LEN - 3; // 108 bytes of sun_path less the leading NUL (abstract) or the terminator (a path)
  if (name.length === 0 || name.length > max) throw new RangeError(`AF_UNIX address "${path}" is empty or over ${max} bytes`);
  const b = Buffer.alloc(2 + (abstract ? 1 : 0) + name.length + (abstract ? 0 : 1));
  writeU16(b, constants().AF_UNIX, 0); // sa_family_t, host order
  name.copy(b, abstract ? 3 : 2);
  return b;
}
