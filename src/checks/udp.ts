// keepalived UDP_CHECK: one datagram on a connected socket; an ICMP error fails; require_reply wants a fitting reply.
import { crypto } from './lazy-builtins.js';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { aborted, describeError, type Probe, type ProbeResult } from './probes.js';

/**
 * keepalived's hex strings: spaces separate; digits pair up, a lone digit before a space or the end is one byte
 * ("Ab12f 3" = ab 12 0f 03). With `wildcards`, x/X is a nibble that may be anything: mask bits set = ignored.
 * null when the text is not such a string.
 */
export function parseHex(text: string, wildcards = false): { data: Buffer; mask: Buffer } | null {
  const data: number[] = [];
  const mask: number[] = [];
  const nibble = (c: string): { v: number; m: number } | null => {
    if (/^[0-9a-fA-F]$/.test(c)) return { v: parseInt(c, 16), m: 0 };
    if (wildcards && (c === 'x' || c === 'X')) return { v: 0, m: 0xf };
    return null;
  };
  let i = 0;
  while (i < text.length) {
    if (text[i] === ' ' || text[i] === '\t') { i++; continue; }
    const a = nibble(text[i++]!);
    if (!a) return null;
    let v = a.v;
    let m = a.m;
    if (i < text.length && text[i] !== ' ' && text[i] !== '\t') {
      const b = nibble(text[i++]!);
      if (!b) return null;
      v = (v << 4) | b.v;
      m = (m << 4) | b.m;
    }
    data.push(v);
    mask.push(m);
  }
  return data.length ? { data: Buffer.from(data), mask: Buffer.from(mask) } : null;
}

export interface UdpTarget {
  address: string;
  port: number;
  sourceAddress?: string;
  /** Bytes sent; keepalived sends 32 bytes of filler when none is given. */
  payload?: Buffer;
  requireReply: boolean;
  replyData?: { data: Buffer; mask: Buffer };
  minReplyLength: number;
  maxReplyLength: number;
  timeoutMs: number;
}

/** keepalived check_udp_reply: length within [min, max], then the bytes up to the shorter of reply and pattern. */
export function judgeUdpReply(reply: Buffer, t: Pick<UdpTarget, 'replyData' | 'minReplyLength' | 'maxReplyLength'>): ProbeResult {
  if (reply.length < t.minReplyLength || reply.length > t.maxReplyLength) {
    return { ok: false, reason: `reply of ${reply.length} bytes, expected ${t.minReplyLength}-${t.maxReplyLength}` };
  }
  if (t.replyData) {
    const n = Math.min(reply.length, t.replyData.data.length);
    for (let i = 0; i < n; i++) {
      if ((reply[i]! ^ t.replyData.data[i]!) & ~t.replyData.mask[i]! & 0xff) {
        return { ok: false, reason: `reply byte ${i} is 0x${reply[i]!.toString(16).padStart(2, '0')}, expected 0x${t.replyData.data[i]!.toString(16).padStart(2, '0')}` };
      }
    }
  }
  return { ok: true, reason: `reply of ${reply.length} bytes` };
}

/**
 * One attempt. Without requireReply, silence for timeoutMs passes (keepalived: only an ICMP error, e.g. port
 * unreachable, fails); with it, the first datagram back is judged and silence fails.
 */
export function udpExchange(t: UdpTarget, signal: AbortSignal): Promise<ProbeResult> {
  if (signal.aborted) return Promise.resolve(aborted);
  return new Promise((resolve) => {
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
    const timer = setTimeout(() => finish(t.requireReply
      ? { ok: false, reason: `no reply within ${t.timeoutMs} ms` }
      : { ok: true, reason: `sent; no ICMP error within ${t.timeoutMs} ms` }), t.timeoutMs);
    sock.on('error', (e) => finish({ ok: false, reason: describeError(e) }));
    sock.on('message', (msg) => finish(t.requireReply ? judgeUdpReply(msg, t) : { ok: true, reason: `reply of ${msg.length} bytes` }));
    const payload = t.payload ?? crypto().randomBytes(32);
    const go = () => sock.connect(t.port, t.address, () => sock.send(payload, (e) => { if (e) finish({ ok: false, reason: describeError(e) }); }));
    if (t.sourceAddress) sock.bind({ address: t.sourceAddress, port: 0 }, go);
    else go();
  });
}

export const udpProbe = (t: UdpTarget): Probe => (signal) => udpExchange(t, signal);
