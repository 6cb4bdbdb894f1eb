// The IPv6 VRRP socket: raw AF_INET6 protocol 112 on one interface, joined to ff02::12, hop limit 255, pktinfo in and out.
import { IPPROTO_VRRP, VRRP_MCAST_V6, VRRP_TTL } from '../protocol/advert.js';
import { constants, native, watchReadable, type NativeError, type PollHandle } from './native.js';
import { attachVridFilter, sizeReceiveBuffer, socketDrops } from './rxtuning.js';
import { arrivalMs } from './rxtime.js';
import { RxBatch } from './rx-batch.js';
import {
  cmsgIpv6HopLimit, cmsgIpv6Pktinfo, in6PktinfoCmsg, ipv6Mreq, parseCmsgs, parseSockaddrInet, sockaddrIn6,
} from './sockaddr.js';

/** One received VRRP packet (the IPv6 header is not included: raw IPv6 sockets deliver the payload). */
export interface Vrrp6Packet {
  payload: Uint8Array;
  /** The sender's address, or null when the kernel gave no usable sockaddr. */
  src: string | null;
  /** The destination address from IPV6_PKTINFO, or null when that cmsg is missing or short. */
  dst: string | null;
  /** From IPV6_HOPLIMIT; -1 when that cmsg is missing or short (the caller drops it as bad-ttl). */
  hopLimit: number;
  /** The arrival interface from IPV6_PKTINFO; -1 when missing. */
  ifindex: number;
  /** MSG_TRUNC or MSG_CTRUNC was set: the payload or the cmsgs were cut. */
  truncated: boolean;
  /** Kernel arrival time on the monotonic clock (ms), when the kernel gave one. */
  arrivalMs: number | null;
}

export interface Vrrp6SocketOptions {
  /** The interface name (SO_BINDTODEVICE, multicast interface, group membership). */
  ifname: string;
  onPacket: (packet: Vrrp6Packet) => void;
  /** recvmsg / poll failures. Without it they are thrown from the poll callback (an uncaught exception). */
  onError?: (err: NativeError) => void;
  /** Largest payload read (default 9216, a jumbo frame). */
  maxPacket?: number;
}

/** <linux/in6.h> IPV6_TCLASS (not in the addon's constant table; the Linux value is fixed ABI). */
export const IPV6_TCLASS = 67;
/** Traffic class of our adverts: CS6 "network control", as keepalived and our IPv4 TOS (0xc0). */
export const VRRP_TCLASS = 0xc0;

const CONTROL_ROOM = 256;
/** Datagrams read per readable event before yielding to the loop (the poll is level-triggered, so it fires again). */
const BATCH = 64;
/**
 * Before a timer acts, the whole queue is read (up to this bound: a full 2 MiB receive buffer of small
 * packets), so a real advert queued behind junk still counts; the per-event BATCH keeps the loop fair otherwise.
 */
const DRAIN_MAX = 8192;

export class Vrrp6Socket {
  readonly ifname: string;
  readonly ifindex: number;
  private fd: number;
  private poller: PollHandle | null = null;
  private readonly opts: Vrrp6SocketOptions;

  constructor(opts: Vrrp6SocketOptions) {
    const c = constants();
    this.opts = opts;
    this.ifname = opts.ifname;
    this.ifindex = native.ifNameToIndex(opts.ifname);
    this.fd = native.socket(c.AF_INET6, c.SOCK_RAW, IPPROTO_VRRP);
    try {
      const fd = this.fd;
      native.setsockopt(fd, c.SOL_SOCKET, c.SO_BINDTODEVICE, Buffer.from(`${opts.ifname}\0`));
      native.setsockopt(fd, c.IPPROTO_IPV6, c.IPV6_MULTICAST_HOPS, VRRP_TTL);
      native.setsockopt(fd, c.IPPROTO_IPV6, c.IPV6_UNICAST_HOPS, VRRP_TTL);
      native.setsockopt(fd, c.IPPROTO_IPV6, c.IPV6_MULTICAST_LOOP, 0);
      native.setsockopt(fd, c.IPPROTO_IPV6, c.IPV6_MULTICAST_IF, this.ifindex);
      native.setsockopt(fd, c.IPPROTO_IPV6, IPV6_TCLASS, VRRP_TCLASS);
      native.setsockopt(fd, c.IPPROTO_IPV6, c.IPV6_JOIN_GROUP, ipv6Mreq(VRRP_MCAST_V6, this.ifindex));
      native.setsockopt(fd, c.IPPROTO_IPV6, c.IPV6_RECVHOPLIMIT, 1);
      native.setsockopt(fd, c.IPPROTO_IPV6, c.IPV6_RECVPKTINFO, 1);
      // No IPV6_CHECKSUM: the VRRP checksum is computed by the caller.
      native.setsockopt(fd, c.SOL_SOCKET, c.SO_TIMESTAMPNS, 1);
      sizeReceiveBuffer(fd);
      this.poller = watchReadable(fd, () => this.onReadable(), (e) => this.fail(e));
    } catch (e) {
      this.close();
      throw e;
    }
  }

  get closed(): boolean {
    return this.fd < 0;
  }

  /**
   * Sends one VRRP payload (checksum already filled in) to `dst` (default ff02::12) on this interface,
   * from `src` (default: the kernel's choice, normally the link-local address). Returns the bytes sent.
   */
  send(payload: Uint8Array, dst: string = VRRP_MCAST_V6, src?: string): number {
    if (this.fd < 0) throw new Error('Vrrp6Socket is closed');
    const control = in6PktinfoCmsg(src ?? '::', this.ifindex);
    return native.sendmsg(this.fd, payload, sockaddrIn6(dst, this.ifindex), control, 0);
  }

  /** Addresses and ancillary data built now; calling the result sends (one sendmsg). */
  prepare(payload: Uint8Array, dst: string = VRRP_MCAST_V6, src?: string): () => number {
    const control = in6PktinfoCmsg(src ?? '::', this.ifindex);
    const addr = sockaddrIn6(dst, this.ifindex);
    return () => (this.fd < 0 ? 0 : native.sendmsg(this.fd, payload, addr, control, 0));
  }

  /** Let only adverts for these VRIDs reach us (a kernel socket filter; see net/bpf.ts). */
  setFilter(vrids: readonly number[]): void {
    if (this.fd >= 0) attachVridFilter(this.fd, 6, vrids);
  }

  /** Packets the kernel dropped on a full receive queue (not those the filter rejected). */
  drops(): number {
    return this.fd >= 0 ? socketDrops(this.fd) : 0;
  }

  /** Read whatever is queued now (before acting on a timer: an advert that arrived in time counts). */
  drain(): void {
    if (this.fd >= 0) this.onReadable(DRAIN_MAX);
  }

  /** Stops the poll, then closes the fd. Idempotent. */
  close(): void {
    this.poller?.stop();
    this.poller = null;
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      native.close(fd);
    }
  }

  private fail(err: NativeError): void {
    if (this.opts.onError) this.opts.onError(err);
    else throw err;
  }

  private rx: RxBatch | null = null;

  private onReadable(limit = BATCH): void {
    if (this.fd < 0) return;
    const c = constants();
    this.rx ??= new RxBatch(this.opts.maxPacket ?? 9216, CONTROL_ROOM);
    this.rx.read(this.fd, limit, (r) => {
      const cmsgs = parseCmsgs(r.control);
      const info = cmsgIpv6Pktinfo(cmsgs);
      this.opts.onPacket({
        payload: r.data,
        src: parseSockaddrInet(r.name)?.address ?? null,
        dst: info?.addr ?? null,
        hopLimit: cmsgIpv6HopLimit(cmsgs) ?? -1,
        ifindex: info?.ifindex ?? -1,
        truncated: (r.flags & (c.MSG_TRUNC | c.MSG_CTRUNC)) !== 0,
        arrivalMs: arrivalMs(cmsgs),
      });
    }, (e) => this.fail(e as NativeError), () => this.fd >= 0);
  }

}
