// Test helper: builds classic libpcap files, link-layer frames and VRRP IP packets in memory.
import { addressToBytes } from '../../src/protocol/addr.js';
import { encodeAdvert, type AdvertSpec } from '../../src/protocol/advert.js';
import { buildIpv4Header } from '../../src/protocol/ip.js';

export interface PcapWriteOptions {
  linkType: number;
  byteOrder?: 'le' | 'be';
  precision?: 'us' | 'ns';
  snaplen?: number;
  /** Raw value OR-ed into the link-type field (FCS flag and length bits). */
  linkTypeFlags?: number;
}

export interface PcapWriteRecord {
  tsSec: number;
  /** Microseconds, or nanoseconds for precision 'ns'. */
  tsFrac: number;
  data: Uint8Array;
  /** Defaults to data.length. */
  originalLength?: number;
}

/** A complete classic pcap file. */
export function writePcap(opts: PcapWriteOptions, records: readonly PcapWriteRecord[]): Uint8Array {
  const le = (opts.byteOrder ?? 'le') === 'le';
  const total = 24 + records.reduce((n, r) => n + 16 + r.data.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, opts.precision === 'ns' ? 0xa1b23c4d : 0xa1b2c3d4, le);
  dv.setUint16(4, 2, le);
  dv.setUint16(6, 4, le);
  dv.setUint32(16, opts.snaplen ?? 262144, le);
  dv.setUint32(20, (opts.linkType | (opts.linkTypeFlags ?? 0)) >>> 0, le);
  let off = 24;
  for (const r of records) {
    dv.setUint32(off, r.tsSec, le);
    dv.setUint32(off + 4, r.tsFrac, le);
    dv.setUint32(off + 8, r.data.length, le);
    dv.setUint32(off + 12, r.originalLength ?? r.data.length, le);
    out.set(r.data, off + 16);
    off += 16 + r.data.length;
  }
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function mac(text: string): Uint8Array {
  return Uint8Array.from(text.split(':').map((h) => parseInt(h, 16)));
}

function u16(n: number): Uint8Array {
  return Uint8Array.of(n >> 8, n & 0xff);
}

export interface VlanTag {
  tpid: number;
  vid: number;
}

export function ethernetFrame(o: {
  dst?: string; src: string; ethertype: number; payload: Uint8Array; vlans?: VlanTag[];
}): Uint8Array {
  const tags = (o.vlans ?? []).map((t) => concat(u16(t.tpid), u16(t.vid & 0x0fff)));
  return concat(mac(o.dst ?? '01:00:5e:00:00:12'), mac(o.src), ...tags, u16(o.ethertype), o.payload);
}

/** LINKTYPE_LINUX_SLL: packet type, ARPHRD, address length, 8-byte address, protocol. */
export function sllFrame(o: { src: string; protocol: number; payload: Uint8Array; packetType?: number }): Uint8Array {
  const addr = new Uint8Array(8);
  addr.set(mac(o.src));
  return concat(u16(o.packetType ?? 2), u16(1), u16(6), addr, u16(o.protocol), o.payload);
}

/** LINKTYPE_LINUX_SLL2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address. */
export function sll2Frame(o: { src: string; protocol: number; payload: Uint8Array; ifindex?: number }): Uint8Array {
  const h = new Uint8Array(20);
  const dv = new DataView(h.buffer);
  dv.setUint16(0, o.protocol);
  dv.setUint32(4, o.ifindex ?? 3);
  dv.setUint16(8, 1);
  h[10] = 2;
  h[11] = 6;
  h.set(mac(o.src), 12);
  return concat(h, o.payload);
}

function addr(text: string): Uint8Array {
  const b = addressToBytes(text);
  if (!b) throw new Error(`bad address ${text}`);
  return b;
}

export function ipv4Packet(o: {
  src: string; dst: string; payload: Uint8Array; ttl?: number; tos?: number; protocol?: number; id?: number;
}): Uint8Array {
  const h = buildIpv4Header({
    src: addr(o.src), dst: addr(o.dst), payloadLength: o.payload.length, id: o.id ?? 1,
    ...(o.ttl !== undefined && { ttl: o.ttl }), ...(o.tos !== undefined && { tos: o.tos }),
    ...(o.protocol !== undefined && { protocol: o.protocol }),
  });
  return concat(h, o.payload);
}

export function ipv6Packet(o: {
  src: string; dst: string; payload: Uint8Array; hopLimit?: number; trafficClass?: number; nextHeader?: number;
}): Uint8Array {
  const h = new Uint8Array(40);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, (6 << 28) | ((o.trafficClass ?? 0xc0) << 20));
  dv.setUint16(4, o.payload.length);
  h[6] = o.nextHeader ?? 112;
  h[7] = o.hopLimit ?? 255;
  h.set(addr(o.src), 8);
  h.set(addr(o.dst), 24);
  return concat(h, o.payload);
}

/** A whole VRRP IP packet as keepalived sends it (TTL 255, TOS 0xc0 unless told otherwise). */
export function vrrpPacket(spec: Omit<AdvertSpec, 'src' | 'dst'> & {
  src: string; dst: string; ttl?: number; tos?: number; pseudoDst?: string;
}): Uint8Array {
  const payload = encodeAdvert({ ...spec, dst: spec.pseudoDst ?? spec.dst });
  return spec.family === 6
    ? ipv6Packet({ src: spec.src, dst: spec.dst, payload, hopLimit: spec.ttl ?? 255, trafficClass: spec.tos ?? 0xc0 })
    : ipv4Packet({ src: spec.src, dst: spec.dst, payload, ttl: spec.ttl ?? 255, tos: spec.tos ?? 0xc0 });
}

export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
