// The IPv4 VRRP socket: raw protocol 112 on one interface, keepalived's own IP header, kernel arrival times.
import { IPPROTO_VRRP, VRRP_MCAST_V4 } from '../protocol/advert.js';
import { addressToBytes } from '../protocol/addr.js';
import { buildIpv4Header, parseIpPacket } from '../protocol/ip.js';
import { constants, native, watchReadable, type PollHandle } from './native.js';
import { arrivalMs } from './rxtime.js';
import { RxBatch } from './rx-batch.js';
import { attachVridFilter, sizeReceiveBuffer, socketDrops } from './rxtuning.js';
import { ipMreqn, parseCmsgs, sockaddrIn } from './sockaddr.js';

export interface Vrrp4Packet {
  payload: Uint8Array;
  src: Uint8Array;
  dst: Uint8Array;
  ttl: number;
  tos: number;
  /** Kernel arrival time on the monotonic clock (ms), when the kernel gave one. */
  arrivalMs: number | null;
}

export interface Vrrp4SocketOptions {
  ifname: string;
  ifindex: number;
  onPacket: (p: Vrrp4Packet) => void;
  /** Malformed IP headers and socket errors; never thrown. */
  onError: (e: Error) => void;
}

const BATCH = 64;
/**
 * Before a timer acts, the whole queue is read (up to this bound: a full 2 MiB receive buffer of small
 * packets), so a real advert queued behind junk still counts; the per-event BATCH keeps the loop fair otherwise.
 */
const DRAIN_MAX = 8192;

/**
 * Why the addon and not the raw-socket package (which the design card names): bench/failover showed
 * raw-socket costing 1.3-2.5 ms of failover precision against keepalived. Its sends are asynchronous
 * (queued until a writable event on a later loop turn, so our first advert left after the VIP add
 * and the GARPs), and it cannot pass ancillary data, so a backup could only time its
 * Master_Down_Timer from when JavaScript read the advert, not from when it arrived. Here sends are
 * one synchronous sendmsg, and SO_TIMESTAMPNS gives the arrival time.
 */
export class Vrrp4Socket {
  private fd: number;
  private poller: PollHandle | null = null;

  constructor(private readonly opts: Vrrp4SocketOptions) {
    const c = constants();
    this.fd = native.socket(c.AF_INET, c.SOCK_RAW, IPPROTO_VRRP);
    try {
      const fd = this.fd;
      native.setsockopt(fd, c.SOL_SOCKET, c.SO_BINDTODEVICE, Buffer.from(`${opts.ifname}\0`));
      native.setsockopt(fd, c.IPPROTO_IP, c.IP_HDRINCL, 1); // keepalived's header: TOS 0xc0, TTL 255, our IP ID
      native.setsockopt(fd, c.IPPROTO_IP, c.IP_MULTICAST_LOOP, 0);
      native.setsockopt(fd, c.IPPROTO_IP, c.IP_MULTICAST_ALL, 0); // only groups joined on this socket
      native.setsockopt(fd, c.IPPROTO_IP, c.IP_MULTICAST_IF, ipMreqn('0.0.0.0', opts.ifindex));
      // Join by interface index (ip_mreqn): by address fails with ENODEV without a default route.
      native.setsockopt(fd, c.IPPROTO_IP, c.IP_ADD_MEMBERSHIP, ipMreqn(VRRP_MCAST_V4, opts.ifindex));
      native.setsockopt(fd, c.SOL_SOCKET, c.SO_TIMESTAMPNS, 1);
      sizeReceiveBuffer(fd);
      this.watch();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  private watch(): void {
    this.poller = watchReadable(this.fd, () => this.onReadable(), (e) => this.opts.onError(e));
  }

  private readonly rx = new RxBatch(9216, 128);

  private onReadable(limit = BATCH): void {
    if (this.fd < 0) return;
    this.rx.read(this.fd, limit, (r) => {
      const p = parseIpPacket(r.data);
      if (!p.ok) {
        this.opts.onError(new Error(`bad IPv4 header: ${p.detail}`));
        return;
      }
      if (p.packet.protocol !== IPPROTO_VRRP) return;
      this.opts.onPacket({
        payload: p.packet.payload, src: p.packet.src, dst: p.packet.dst, ttl: p.packet.ttl, tos: p.packet.tos,
        arrivalMs: arrivalMs(parseCmsgs(r.control)),
      });
    }, (e) => this.opts.onError(e), () => this.fd >= 0);
  }

  /** Parsed addresses and sockaddrs, by text: the send path does no parsing after the first advert. */
  private readonly addrCache = new Map<string, { bytes: Uint8Array; sockaddr: Uint8Array }>();

  private addr(text: string): { bytes: Uint8Array; sockaddr: Uint8Array } {
    let a = this.addrCache.get(text);
    if (!a) {
      const bytes = addressToBytes(text, 4);
      if (!bytes) throw new RangeError(`bad IPv4 address ${text}`);
      a = { bytes, sockaddr: sockaddrIn(bytes) };
      if (this.addrCache.size < 1024) this.addrCache.set(text, a);
    }
    return a;
  }

  /** Send one VRRP message with our IPv4 header, now (one sendmsg; errors go to onError). */
  send(payload: Uint8Array, src: string, dst: string, ipId: number): void {
    this.prepare(payload, src, dst, ipId)();
  }

  /** The packet built now (header, IP ID, checksum), sent by calling the result: one sendmsg. */
  prepare(payload: Uint8Array, src: string, dst: string, ipId: number): () => void {
    const s = this.addr(src);
    const d = this.addr(dst);
    const h = buildIpv4Header({ src: s.bytes, dst: d.bytes, payloadLength: payload.length, id: ipId });
    const pkt = new Uint8Array(h.length + payload.length);
    pkt.set(h);
    pkt.set(payload, h.length);
    return () => {
      if (this.fd < 0) return;
      try {
        native.sendmsg(this.fd, pkt, d.sockaddr, null, 0);
      } catch (e) {
        this.opts.onError(e as Error);
      }
    };
  }

  /** Let only adverts for these VRIDs reach us (a kernel socket filter; see net/bpf.ts). */
  setFilter(vrids: readonly number[]): void {
    if (this.fd >= 0) attachVridFilter(this.fd, 4, vrids);
  }

  /** Packets the kernel dropped on a full receive queue (not those the filter rejected). */
  drops(): number {
    return this.fd >= 0 ? socketDrops(this.fd) : 0;
  }

  /** Read whatever is queued now (before acting on a timer: an advert that arrived in time counts). */
  drain(): void {
    if (this.fd >= 0) this.onReadable(DRAIN_MAX);
  }

  /** Sends are synchronous: nothing is ever pending. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    this.poller?.stop();
    this.poller = null;
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      native.close(fd);
    }
  }
}
