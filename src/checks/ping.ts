// keepalived PING_CHECK: one ICMP / ICMPv6 echo request (RFC 792, RFC 4443 §4.1) through the addon; the matching reply passes.
import { crypto } from './lazy-builtins.js';
import { isIPv6 } from 'node:net';
import { canonicalAddress } from '../protocol/addr.js';
import { constants, isNativeError, native, watchReadable, type PollHandle } from '../net/native.js';
import { parseSockaddrInet, sockaddrIn, sockaddrIn6 } from '../net/sockaddr.js';
import { aborted, describeError, type Probe, type ProbeResult } from './probes.js';

/** IPPROTO_ICMP: IANA protocol number 1 (the addon exports only ICMPv6's). */
const IPPROTO_ICMP = 1;
/** RFC 792 / RFC 4443 §4.1-4.2 message types. */
const ECHO = { 4: { request: 8, reply: 0 }, 6: { request: 128, reply: 129 } } as const;
/** Payload bytes after the 8-byte header (keepalived sends 128). */
const PAYLOAD = 56;

/** RFC 1071 Internet checksum (ICMPv4; the kernel sums ICMPv6 and ping-socket packets itself). */
export function internetChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An echo request: type, code 0, checksum, identifier, sequence number, payload. */
export function echoRequest(family: 4 | 6, id: number, seq: number, payload: Buffer = Buffer.alloc(PAYLOAD, 0x5a)): Buffer {
  const b = Buffer.alloc(8 + payload.length);
  b[0] = ECHO[family].request;
  b.writeUInt16BE(id & 0xffff, 4);
  b.writeUInt16BE(seq & 0xffff, 6);
  payload.copy(b, 8);
  if (family === 4) b.writeUInt16BE(internetChecksum(b), 2);
  return b;
}

/**
 * Is this datagram our echo reply? `raw`: an IPv4 raw socket hands over the IP header too (skipped by its IHL);
 * `id` null: a ping socket, where the kernel owns the identifier (and filters on it).
 */
export function isEchoReply(family: 4 | 6, data: Buffer, raw: boolean, id: number | null, seq: number): boolean {
  let off = 0;
  if (raw && family === 4) {
    if (data.length < 20 || data[0]! >> 4 !== 4) return false;
    off = (data[0]! & 0xf) * 4;
  }
  if (data.length < off + 8) return false;
  if (data[off] !== ECHO[family].reply || data[off + 1] !== 0) return false;
  if (id !== null && data.readUInt16BE(off + 4) !== id) return false;
  return data.readUInt16BE(off + 6) === seq;
}

export interface PingTarget { address: string; sourceAddress?: string; timeoutMs: number }

/**
 * An ICMP socket: an unprivileged ping socket (SOCK_DGRAM, as keepalived) when net.ipv4.ping_group_range allows it,
 * else a raw socket (root, CAP_NET_RAW). Throws the addon's error when neither opens.
 */
function openIcmp(family: 4 | 6): { fd: number; raw: boolean } {
  const c = constants();
  const af = family === 4 ? c.AF_INET : c.AF_INET6;
  const proto = family === 4 ? IPPROTO_ICMP : c.IPPROTO_ICMPV6;
  try {
    return { fd: native.socket(af, c.SOCK_DGRAM, proto), raw: false };
  } catch (e) {
    if (!isNativeError(e) || (e.code !== 'EACCES' && e.code !== 'EPERM')) throw e;
    return { fd: native.socket(af, c.SOCK_RAW, proto), raw: true };
  }
}

/** One echo request; the reply from `address` with our identifier and sequence number within timeoutMs passes. */
export function pingOnce(t: PingTarget, signal: AbortSignal): Promise<ProbeResult> {
  if (signal.aborted) return Promise.resolve(aborted);
  const family = isIPv6(t.address) ? 6 : 4;
  const target = canonicalAddress(t.address) ?? t.address;
  return new Promise((resolve) => {
    let fd = -1;
    let poller: PollHandle | null = null;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      poller?.stop();
      if (fd >= 0) try { native.close(fd); } catch { /* closed */ }
      resolve(r);
    };
    const onAbort = () => finish(aborted);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const s = openIcmp(family);
      fd = s.fd;
      const id = crypto().randomInt(0x10000);
      const seq = crypto().randomInt(0x10000);
      const sa = (a: string) => (family === 4 ? sockaddrIn(a) : sockaddrIn6(a));
      if (t.sourceAddress) native.bind(fd, sa(t.sourceAddress));
      timer = setTimeout(() => finish({ ok: false, reason: `no echo reply within ${t.timeoutMs} ms` }), t.timeoutMs);
      poller = watchReadable(fd, () => {
        for (let n = 0; n < 64 && !done; n++) {
          let r;
          try {
            r = native.recvmsg(fd, 2048, 0, 0);
          } catch (e) {
            finish({ ok: false, reason: describeError(e) });
            return;
          }
          if (!r) return;
          const from = parseSockaddrInet(r.addr);
          if (from && from.address !== target) continue;
          if (isEchoReply(family, r.data, s.raw, s.raw ? id : null, seq)) finish({ ok: true, reason: 'echo reply' });
        }
      }, (e) => finish({ ok: false, reason: describeError(e) }));
      native.sendmsg(fd, echoRequest(family, id, seq), sa(target), null, 0);
    } catch (e) {
      finish({ ok: false, reason: describeError(e) });
    }
  });
}

export const pingProbe = (t: PingTarget): Probe => (signal) => pingOnce(t, signal);
