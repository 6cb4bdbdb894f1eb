// The IPv4 VRRP socket on the raw-socket package: protocol 112 on one interface, keepalived's own IP header (IP_HDRINCL).
import raw, { type RawSocket } from 'raw-socket';
import { IPPROTO_VRRP, VRRP_MCAST_V4 } from '../protocol/advert.js';
import { addressToBytes } from '../protocol/addr.js';
import { buildIpv4Header, parseIpPacket } from '../protocol/ip.js';
import { constants } from './native.js';
import { ipMreqn } from './sockaddr.js';

export interface Vrrp4Packet {
  payload: Uint8Array;
  src: Uint8Array;
  dst: Uint8Array;
  ttl: number;
  tos: number;
}

export interface Vrrp4SocketOptions {
  ifname: string;
  ifindex: number;
  onPacket: (p: Vrrp4Packet) => void;
  /** Malformed IP headers and socket errors; never thrown. */
  onError: (e: Error) => void;
}

/**
 * raw-socket is enough for IPv4: the kernel hands a raw IPv4 socket the whole IP header, so TTL and
 * destination need no ancillary data, and SO_BINDTODEVICE fixes the interface. Options are set
 * with raw-socket's setOption (numbers, or buffers for ip_mreqn).
 */
export class Vrrp4Socket {
  private sock: RawSocket;
  private pending = 0;
  private drainWaiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly opts: Vrrp4SocketOptions) {
    const c = constants();
    const s = raw.createSocket({ addressFamily: raw.AddressFamily.IPv4, protocol: IPPROTO_VRRP, bufferSize: 9216 });
    this.sock = s;
    try {
      const name = Buffer.from(`${opts.ifname}\0`);
      s.setOption(c.SOL_SOCKET, c.SO_BINDTODEVICE, name, name.length);
      s.setOption(c.IPPROTO_IP, c.IP_HDRINCL, 1); // we write keepalived's header: TOS 0xc0, TTL 255, our IP ID
      s.setOption(c.IPPROTO_IP, c.IP_MULTICAST_LOOP, 0);
      s.setOption(c.IPPROTO_IP, c.IP_MULTICAST_ALL, 0); // only groups joined on this socket
      const ifreq = ipMreqn('0.0.0.0', opts.ifindex);
      s.setOption(c.IPPROTO_IP, c.IP_MULTICAST_IF, ifreq, ifreq.length);
      // Join by interface index (ip_mreqn): joining by address fails with ENODEV in namespaces
      // without a default route.
      const mreq = ipMreqn(VRRP_MCAST_V4, opts.ifindex);
      s.setOption(c.IPPROTO_IP, c.IP_ADD_MEMBERSHIP, mreq, mreq.length);
    } catch (e) {
      s.close();
      throw e;
    }
    s.on('message', (buf: Buffer) => {
      const p = parseIpPacket(new Uint8Array(buf.buffer, buf.byteOffset, buf.length));
      if (!p.ok) return opts.onError(new Error(`bad IPv4 header: ${p.detail}`));
      if (p.packet.protocol !== IPPROTO_VRRP) return;
      opts.onPacket({ payload: p.packet.payload, src: p.packet.src, dst: p.packet.dst, ttl: p.packet.ttl, tos: p.packet.tos });
    });
    s.on('error', (e: Error) => opts.onError(e));
  }

  /** Send one VRRP message with our IPv4 header. Completion is asynchronous; flush() waits for it. */
  send(payload: Uint8Array, src: string, dst: string, ipId: number): void {
    if (this.closed) return;
    const s = addressToBytes(src, 4);
    const d = addressToBytes(dst, 4);
    if (!s || !d) throw new RangeError(`bad IPv4 source/destination ${src} ${dst}`);
    const h = buildIpv4Header({ src: s, dst: d, payloadLength: payload.length, id: ipId });
    const pkt = Buffer.alloc(h.length + payload.length);
    pkt.set(h);
    pkt.set(payload, h.length);
    this.pending++;
    this.sock.send(pkt, 0, pkt.length, dst, (err) => {
      this.pending--;
      if (err) this.opts.onError(err);
      if (this.pending === 0) for (const w of this.drainWaiters.splice(0)) w();
    });
  }

  /** Resolves when every queued send has gone to the kernel (used before exit). */
  flush(timeoutMs = 100): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.drainWaiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
  }
}
