// keepalived DNS_CHECK: a DNS query over UDP (RFC 1035 §4) encoded here, the reply decoded here; NOERROR passes.
import { createSocket, type Socket } from 'node:dgram';
import { crypto } from './lazy-builtins.js';
import { isIPv6 } from 'node:net';
import { canonicalAddress } from '../protocol/addr.js';
import { aborted, describeError, type Probe, type ProbeResult } from './probes.js';

/** RFC 1035 §3.2.2 TYPE values (AAAA: RFC 3596 §2.1; RRSIG, DNSKEY: RFC 4034). */
export const DNS_TYPE_CODES = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, RRSIG: 46, DNSKEY: 48 } as const;
export type DnsType = keyof typeof DNS_TYPE_CODES;

/** RFC 1035 §4.1.1 RCODE names (RFC 6895 §2.3 for the rest). */
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];
export const rcodeName = (rcode: number): string => RCODES[rcode] ?? `RCODE ${rcode}`;

const HEADER = 12;
/** RFC 1035 §2.3.4: a UDP message is at most 512 octets (without EDNS; a bigger reply is read whole anyway). */
const MAX_NAME = 255;
const MAX_POINTERS = 64;

/**
 * A query (RFC 1035 §4.1): header with ID and RD set (keepalived asks for recursion), one question of class IN.
 * `name` "." or "" is the root; a trailing dot is allowed. Labels longer than 63 octets throw (the schema refuses them).
 */
export function encodeQuery(id: number, name: string, type: DnsType): Buffer {
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'utf8');
    if (b.length < 1 || b.length > 63) throw new RangeError(`DNS label "${l}" must be 1-63 octets`);
    parts.push(Buffer.from([b.length]), b);
  }
  const qname = Buffer.concat([...parts, Buffer.from([0])]);
  if (qname.length > MAX_NAME) throw new RangeError(`DNS name longer than ${MAX_NAME} octets`);
  const out = Buffer.alloc(HEADER + qname.length + 4);
  out.writeUInt16BE(id & 0xffff, 0);
  out.writeUInt16BE(0x0100, 2); // QR=0 opcode=QUERY RD=1 (§4.1.1)
  out.writeUInt16BE(1, 4); // QDCOUNT
  qname.copy(out, HEADER);
  out.writeUInt16BE(DNS_TYPE_CODES[type], HEADER + qname.length);
  out.writeUInt16BE(1, HEADER + qname.length + 2); // QCLASS IN
  return out;
}

export interface DnsRecord { name: string; type: number; class: number; ttl: number; data: Buffer; address?: string }

export interface DnsMessage {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  questions: { name: string; type: number; class: number }[];
  answers: DnsRecord[];
}

class Malformed extends Error {}

/** A (possibly compressed, §4.1.4) name at `off`: the name and the offset after it in the message. */
function readName(b: Buffer, off: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  let pos = off;
  let total = 0;
  for (let jumps = 0; ;) {
    if (pos >= b.length) throw new Malformed('name runs past the end');
    const len = b[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= b.length) throw new Malformed('truncated compression pointer');
      if (++jumps > MAX_POINTERS) throw new Malformed('compression pointer loop');
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | b[pos + 1]!;
      continue;
    }
    if (len & 0xc0) throw new Malformed(`reserved label type 0x${(len & 0xc0).toString(16)}`);
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    if (pos + 1 + len > b.length) throw new Malformed('label runs past the end');
    total += len + 1;
    if (total > MAX_NAME) throw new Malformed('name longer than 255 octets');
    labels.push(b.toString('latin1', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return { name: labels.length ? labels.join('.') : '.', next };
}

function need(b: Buffer, off: number, n: number, what: string): void {
  if (off + n > b.length) throw new Malformed(`${what} runs past the end`);
}

/** Decode a reply (header, questions, answer section); a malformed message gives its reason, never throws. */
export function decodeMessage(b: Buffer): { ok: true; msg: DnsMessage } | { ok: false; reason: string } {
  try {
    need(b, 0, HEADER, 'header');
    const flags = b.readUInt16BE(2);
    const qd = b.readUInt16BE(4);
    const an = b.readUInt16BE(6);
    const msg: DnsMessage = {
      id: b.readUInt16BE(0), qr: (flags & 0x8000) !== 0, opcode: (flags >> 11) & 0xf, aa: (flags & 0x0400) !== 0,
      tc: (flags & 0x0200) !== 0, rd: (flags & 0x0100) !== 0, ra: (flags & 0x0080) !== 0, rcode: flags & 0xf,
      questions: [], answers: [],
    };
    let off = HEADER;
    for (let i = 0; i < qd; i++) {
      const n = readName(b, off);
      need(b, n.next, 4, 'question');
      msg.questions.push({ name: n.name, type: b.readUInt16BE(n.next), class: b.readUInt16BE(n.next + 2) });
      off = n.next + 4;
    }
    for (let i = 0; i < an; i++) {
      const n = readName(b, off);
      need(b, n.next, 10, 'resource record');
      const type = b.readUInt16BE(n.next);
      const rdlen = b.readUInt16BE(n.next + 8);
      need(b, n.next + 10, rdlen, 'RDATA');
      const data = Buffer.from(b.subarray(n.next + 10, n.next + 10 + rdlen));
      const rr: DnsRecord = { name: n.name, type, class: b.readUInt16BE(n.next + 2), ttl: b.readUInt32BE(n.next + 4), data };
      if (type === DNS_TYPE_CODES.A && rdlen === 4) rr.address = [...data].join('.');
      if (type === DNS_TYPE_CODES.AAAA && rdlen === 16) rr.address = canonicalAddress(ipv6Text(data)) ?? undefined;
      msg.answers.push(rr);
      off = n.next + 10 + rdlen;
    }
    return { ok: true, msg };
  } catch (e) {
    if (e instanceof Malformed) return { ok: false, reason: `malformed DNS message: ${e.message}` };
    throw e;
  }
}

function ipv6Text(d: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(d.readUInt16BE(i).toString(16));
  return groups.join(':');
}

export interface DnsTarget {
  address: string;
  port: number;
  sourceAddress?: string;
  queryType: DnsType;
  name: string;
  /** Addresses every one of which must be among the answer's A/AAAA records (vrrpd extension). */
  expect?: readonly string[];
  timeoutMs: number;
}

/**
 * Judge a datagram against the query: null = not our reply, keep waiting (too short, other ID, not a response:
 * keepalived ignores these); otherwise the result. keepalived: RCODE 0 passes, whatever the answer holds.
 */
export function judgeReply(reply: Buffer, queryId: number, target: Pick<DnsTarget, 'expect' | 'queryType' | 'name'>): ProbeResult | null {
  if (reply.length < HEADER || reply.readUInt16BE(0) !== queryId || (reply[2]! & 0x80) === 0) return null;
  const rcode = reply[3]! & 0xf;
  if (rcode !== 0) return { ok: false, reason: `DNS ${target.queryType} ${target.name}: ${rcodeName(rcode)}` };
  if (!target.expect?.length) return { ok: true, reason: `DNS ${target.queryType} ${target.name}: NOERROR` };
  const d = decodeMessage(reply);
  if (!d.ok) return { ok: false, reason: d.reason };
  const got = new Set(d.msg.answers.flatMap((a) => (a.address ? [a.address] : [])));
  const missing = target.expect.map((a) => canonicalAddress(a) ?? a).filter((a) => !got.has(a));
  if (missing.length) {
    return { ok: false, reason: `DNS ${target.queryType} ${target.name}: answer lacks ${missing.join(', ')} (got ${[...got].join(', ') || 'no address'})` };
  }
  return { ok: true, reason: `DNS ${target.queryType} ${target.name}: ${[...got].join(', ')}` };
}

/** One query: a fresh socket and ID, the reply awaited for timeoutMs (keepalived connect_timeout). */
export function dnsQuery(t: DnsTarget, signal: AbortSignal): Promise<ProbeResult> {
  if (signal.aborted) return Promise.resolve(aborted);
  return new Promise((resolve) => {
    const id = crypto().randomInt(0x10000);
    let query: Buffer;
    try {
      query = encodeQuery(id, t.name, t.queryType);
    } catch (e) {
      resolve({ ok: false, reason: (e as Error).message });
      return;
    }
    const sock: Socket = createSocket(isIPv6(t.address) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      try { sock.close(); } catch { /* already closed */ }
      resolve(r);
    };
    const onAbort = () => finish(aborted);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => finish({ ok: false, reason: `no DNS reply within ${t.timeoutMs} ms` }), t.timeoutMs);
    sock.on('error', (e) => finish({ ok: false, reason: describeError(e) }));
    sock.on('message', (msg) => {
      const r = judgeReply(msg, id, t);
      if (r) finish(r);
    });
    const go = () => sock.connect(t.port, t.address, () => sock.send(query, (e) => { if (e) finish({ ok: false, reason: describeError(e) }); }));
    if (t.sourceAddress) sock.bind({ address: t.sourceAddress, port: 0 }, go);
    else go();
  });
}

export const dnsProbe = (t: DnsTarget): Probe => (signal) => dnsQuery(t, signal);
