// tcpdump inside a lab namespace, written to a pcap file that we read as it grows (parsePcap on the new
// bytes), and the frames the benchmark cares about: VRRP adverts, ARP, and the UDP replies of the responders.
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, LabProcess, NodeName } from './lab.js';
import { parsePcap, frameToIp, LINKTYPE_ETHERNET } from '../../src/tools/pcap.js';
import { parseIpPacket } from '../../src/protocol/ip.js';
import { decodeAdvert } from '../../src/protocol/advert.js';
import { bytesToAddress } from '../../src/protocol/addr.js';

/** A VRRP advert seen in a capture; ts in µs of CLOCK_REALTIME (the kernel's skb timestamp). */
export interface AdvertSeen { ts: number; src: string; version: number; priority: number; intervalCs: number; ok: boolean; detail?: string }
/** An ARP frame seen in a capture. */
export interface ArpSeen { ts: number; srcMac: string; op: number; senderIp: string; targetIp: string; targetMac: string }
/** A UDP datagram seen in a capture (the responders' replies). */
export interface UdpSeen { ts: number; srcMac: string; src: string; dst: string; sport: number; dport: number; name: string | null }

export type Seen =
  | ({ kind: 'advert' } & AdvertSeen)
  | ({ kind: 'arp' } & ArpSeen)
  | ({ kind: 'udp' } & UdpSeen);

const macText = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');

/** Classify one captured frame (Ethernet link type); null for anything else. */
export function classify(linkType: number, ts: number, data: Uint8Array): Seen | null {
  if (linkType === LINKTYPE_ETHERNET && data.length >= 42 && data[12] === 0x08 && data[13] === 0x06) {
    const a = data.subarray(14);
    const op = (a[6]! << 8) | a[7]!;
    return {
      kind: 'arp', ts, srcMac: macText(data.subarray(6, 12)), op,
      senderIp: bytesToAddress(a.subarray(14, 18)), targetMac: macText(a.subarray(18, 24)), targetIp: bytesToAddress(a.subarray(24, 28)),
    };
  }
  const f = frameToIp(linkType, data);
  if (!f) return null;
  const ip = parseIpPacket(f.ip);
  if (!ip.ok) return null;
  const p = ip.packet;
  if (p.protocol === 112) {
    const r = decodeAdvert(p.payload, { family: p.family, src: p.src, dst: p.dst, ttl: p.ttl });
    const adv = r.ok ? r.advert : r.advert;
    return {
      kind: 'advert', ts, src: bytesToAddress(p.src), version: adv?.version ?? (p.payload[0] ?? 0) >> 4,
      priority: adv?.priority ?? p.payload[2] ?? -1, intervalCs: adv?.intervalCs ?? -1, ok: r.ok,
      ...(r.ok ? {} : { detail: `${r.reason}: ${r.detail}` }),
    };
  }
  if (p.protocol === 17 && p.payload.length >= 8) {
    const u = p.payload;
    let name: string | null = null;
    try {
      const o = JSON.parse(new TextDecoder().decode(u.subarray(8))) as { name?: unknown };
      if (typeof o.name === 'string') name = o.name;
    } catch { /* not a responder reply */ }
    return {
      kind: 'udp', ts, srcMac: f.srcMac ?? '', src: bytesToAddress(p.src), dst: bytesToAddress(p.dst),
      sport: (u[0]! << 8) | u[1]!, dport: (u[2]! << 8) | u[3]!, name,
    };
  }
  return null;
}

/** Reads a pcap file that tcpdump is still writing: each poll() parses only the bytes added since. */
export class PcapTail {
  private fd: number | null = null;
  private pos = 0;
  private header: Uint8Array | null = null;
  private pending: Uint8Array = new Uint8Array(0);
  private linkType = -1;
  readonly seen: Seen[] = [];
  frames = 0;

  constructor(readonly path: string) {}

  poll(): number {
    if (this.fd === null) {
      if (!existsSync(this.path)) return 0;
      this.fd = openSync(this.path, 'r');
    }
    const size = fstatSync(this.fd).size;
    if (size > this.pos) {
      const buf = new Uint8Array(size - this.pos);
      let got = 0;
      // Bounded: at most a few reads for the bytes announced by fstat.
      for (let i = 0; i < 64 && got < buf.length; i++) {
        const n = readSync(this.fd, buf, got, buf.length - got, this.pos + got);
        if (n <= 0) break;
        got += n;
      }
      this.pos += got;
      const joined = new Uint8Array(this.pending.length + got);
      joined.set(this.pending);
      joined.set(buf.subarray(0, got), this.pending.length);
      this.pending = joined;
    }
    if (!this.header) {
      if (this.pending.length < 24) return 0;
      this.header = this.pending.slice(0, 24);
      this.pending = this.pending.slice(24);
    }
    if (this.pending.length < 16) return 0;
    const whole = new Uint8Array(24 + this.pending.length);
    whole.set(this.header);
    whole.set(this.pending, 24);
    const parsed = parsePcap(whole);
    if (!parsed.ok) throw new Error(`${this.path}: ${parsed.error}`);
    this.linkType = parsed.linkType;
    let consumed = 0;
    const div = parsed.precision === 'ns' ? 1000 : 1;
    for (const r of parsed.records) {
      consumed += 16 + r.capturedLength;
      this.frames++;
      // Integer µs of CLOCK_REALTIME.
      const ts = r.tsSec * 1e6 + Math.floor(r.tsFrac / div);
      const s = classify(this.linkType, ts, r.data);
      if (s) this.seen.push(s);
    }
    this.pending = this.pending.slice(consumed);
    return parsed.records.length;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** A running tcpdump in a lab namespace and the reader of its file. */
export class Capture {
  readonly tail: PcapTail;
  constructor(readonly proc: LabProcess, readonly file: string) { this.tail = new PcapTail(file); }

  poll(): Seen[] { this.tail.poll(); return this.tail.seen; }

  async stop(): Promise<void> {
    await this.proc.stop(1000);
    this.tail.poll();
    this.tail.close();
  }
}

/**
 * Start `tcpdump -w FILE` on NODE's IFACE with FILTER, bounded by `maxSeconds` (coreutils timeout);
 * resolves once tcpdump says it listens. Packet-buffered output, immediate mode, µs host timestamps.
 */
export async function startCapture(lab: Lab, node: NodeName, iface: string, filter: string, name: string, maxSeconds: number): Promise<Capture> {
  const file = join(lab.dir, `${name}.pcap`);
  const p = lab.spawnIn(node, ['timeout', String(Math.ceil(maxSeconds)), 'tcpdump', '-n', '-U', '--immediate-mode', '-s', '256',
    '-B', '8192', '--time-stamp-precision=micro', '-i', iface, '-w', file, filter], `tcpdump@${node}:${iface}`);
  await p.waitLine((l) => l.includes('listening on'), 10_000, { stderr: true });
  return new Capture(p, file);
}
