// Netlink socket over the native addon: pipelined request/ack/dump matched by sequence number, multicast events, timeouts.
// Family-agnostic (NETLINK_ROUTE, NETLINK_GENERIC); framing lives in nlmsg.ts.
import { EventEmitter } from 'node:events';
import { getSystemErrorMap } from 'node:util';
import {
  decodeNlmsgDone, decodeNlmsgErr, decodeNlmsgs, encodeNlmsg, peekHeader, type ExtAck, type NlMsg,
  NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_MULTI,
  NLM_F_REQUEST, HOST_LE,
} from './nlmsg.js';
import { native } from './native.js';
import { parseSockaddrNl, sockaddrNl } from './sockaddr.js';

/** The part of the native addon (src/net/native.ts) a netlink socket uses; a fake can be injected in tests. */
export interface NetlinkSys {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, sockaddr: Uint8Array): void;
  setsockopt(fd: number, level: number, name: number, value: number | Uint8Array): void;
  sendmsg(fd: number, data: Uint8Array, sockaddr: Uint8Array | null, control: Uint8Array | null, flags: number): number;
  recvmsg(fd: number, maxData: number, maxControl: number, flags: number):
    { data: Uint8Array; addr: Uint8Array; control: Uint8Array; flags: number } | null;
  poll(fd: number, callback: (err: Error | null) => void): { stop(): void };
  close(fd: number): void;
}

// asm-generic/socket.h, linux/netlink.h, linux/socket.h (kernel ABI values; SO_RCVBUFFORCE is not in the addon).
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOL_SOCKET = 1;
const SO_SNDBUF = 7;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const SOL_NETLINK = 270;
const NETLINK_ADD_MEMBERSHIP = 1;
const NETLINK_CAP_ACK = 10;
const NETLINK_EXT_ACK = 11;
const MSG_TRUNC = 0x20;
export const NETLINK_ROUTE = 0;
export const NETLINK_GENERIC = 16;

const ERRNO = { EINTR: -4, EMSGSIZE: -90, ENOBUFS: -105, ETIMEDOUT: -110, ECANCELED: -125, EPROTO: -71 } as const;

/** A Node-style system error for a netlink failure: errno (negative), code ('EEXIST'), syscall 'netlink'. */
export class NetlinkError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall = 'netlink';
  /** The request's message type name (e.g. 'RTM_NEWADDR') or number. */
  readonly op: string;
  readonly extAck: ExtAck;

  constructor(errno: number, op: string, detail?: string, extAck: ExtAck = {}) {
    const [code, text] = getSystemErrorMap().get(errno) ?? [`E${-errno}`, `errno ${-errno}`];
    super(`netlink ${op} ${code}: ${detail ?? extAck.msg ?? text}`);
    this.name = 'NetlinkError';
    this.errno = errno;
    this.code = code;
    this.op = op;
    this.extAck = extAck;
  }
}

export interface NetlinkOptions {
  /** Multicast groups to join, by number (RTNLGRP_LINK = 1, or a generic netlink group id). */
  groups?: readonly number[];
  /** SO_RCVBUF bytes (SO_RCVBUFFORCE when permitted). Default 4 MiB. */
  rcvbuf?: number;
  /** Default request timeout in ms. Default 5000. */
  timeoutMs?: number;
  /** Requests sent but not yet answered, at most. Default 256 (bounds acks queued in the receive buffer). */
  maxInFlight?: number;
  /** recvmsg buffer. Default 64 KiB. */
  recvSize?: number;
  /** Names message types in errors (e.g. 16 → 'RTM_NEWLINK'). */
  typeName?: (type: number) => string;
  /** Syscalls; default the native addon. */
  sys?: NetlinkSys;
}

export interface RequestOptions {
  timeoutMs?: number;
  /** A dump (answered by NLMSG_DONE). Default: the flags contain NLM_F_DUMP. */
  dump?: boolean;
  /** Ask for an ack (NLM_F_ACK) on non-dump requests. Default true, so every request ends. */
  ack?: boolean;
}

interface Pending {
  seq: number;
  type: number;
  bytes: Uint8Array;
  dump: boolean;
  ack: boolean;
  timeoutMs: number;
  retries: number;
  interrupted: boolean;
  replies: NlMsg[];
  timer: ReturnType<typeof setTimeout> | null;
  resolve: (m: NlMsg[]) => void;
  reject: (e: Error) => void;
}

interface NetlinkEvents {
  /** A multicast notification. */
  event: [NlMsg];
  /** Notifications were lost (ENOBUFS, NLMSG_OVERRUN, a truncated notification): resync with a dump. */
  overrun: [];
  error: [Error];
}

const DUMP_RETRIES = 3;

export class NetlinkSocket extends EventEmitter<NetlinkEvents> {
  private readonly queue: Pending[] = [];
  private readonly inflight = new Map<number, Pending>();
  private dumpActive: Pending | null = null;
  private seq = 0;
  private closed = false;
  private poller: { stop(): void };

  private constructor(
    private readonly sys: NetlinkSys,
    readonly fd: number,
    private readonly opts: Required<Pick<NetlinkOptions, 'timeoutMs' | 'maxInFlight' | 'recvSize'>> & NetlinkOptions,
  ) {
    super();
    this.poller = sys.poll(fd, (err) => this.onReadable(err));
  }

  /** Open and bind a netlink socket of a protocol (NETLINK_ROUTE, NETLINK_GENERIC) and join groups. */
  static async open(protocol: number, groups: readonly number[] = [], options: NetlinkOptions = {}): Promise<NetlinkSocket> {
    const sys = options.sys ?? native;
    const fd = sys.socket(AF_NETLINK, SOCK_RAW, protocol);
    try {
      const rcvbuf = options.rcvbuf ?? 4 << 20;
      try {
        sys.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf);
      } catch {
        sys.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf); // without CAP_NET_ADMIN: capped at rmem_max
      }
      sys.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, 1 << 20);
      for (const opt of [NETLINK_EXT_ACK, NETLINK_CAP_ACK]) {
        try {
          sys.setsockopt(fd, SOL_NETLINK, opt, 1);
        } catch {
          // before Linux 4.12 / 4.2: errors lack the kernel's message, acks echo the whole request
        }
      }
      sys.bind(fd, sockaddrNl(0, 0));
      for (const g of [...(options.groups ?? []), ...groups]) sys.setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g);
    } catch (e) {
      sys.close(fd);
      throw e;
    }
    return new NetlinkSocket(sys, fd, {
      ...options, timeoutMs: options.timeoutMs ?? 5000, maxInFlight: Math.max(1, options.maxInFlight ?? 256),
      recvSize: options.recvSize ?? 65536,
    });
  }

  /**
   * Send one request; resolves with the reply messages (without the final ack / NLMSG_DONE), rejects with a
   * NetlinkError (errno/code from NLMSG_ERROR, ETIMEDOUT, EMSGSIZE on a truncated reply, EINTR when a dump
   * stays inconsistent after retries). Any number may be outstanding; dumps run one at a time, in order.
   */
  request(type: number, flags: number, payload: Uint8Array = new Uint8Array(0), options: RequestOptions = {}): Promise<NlMsg[]> {
    if (this.closed) return Promise.reject(new NetlinkError(ERRNO.ECANCELED, this.opName(type), 'socket closed'));
    const dump = options.dump ?? (flags & NLM_F_DUMP) === NLM_F_DUMP;
    const ack = !dump && options.ack !== false;
    const fl = flags | NLM_F_REQUEST | (ack ? NLM_F_ACK : 0);
    return new Promise<NlMsg[]>((resolve, reject) => {
      this.queue.push({
        seq: 0, type, bytes: encodeNlmsg({ type, flags: fl, seq: 0, pid: 0 }, payload), dump, ack,
        timeoutMs: options.timeoutMs ?? this.opts.timeoutMs, retries: 0, interrupted: false, replies: [], timer: null,
        resolve, reject,
      });
      this.pump();
    });
  }

  /** Subscribe to multicast notifications; returns the unsubscribe function. */
  onEvent(callback: (msg: NlMsg) => void): () => void {
    this.on('event', callback);
    return () => this.off('event', callback);
  }

  /** Stop polling, close the fd, reject everything outstanding with ECANCELED. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.stop();
    const all = [...this.inflight.values(), ...this.queue];
    this.inflight.clear();
    this.queue.length = 0;
    this.dumpActive = null;
    for (const p of all) this.fail(p, new NetlinkError(ERRNO.ECANCELED, this.opName(p.type), 'socket closed'));
    this.sys.close(this.fd);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private opName(type: number): string {
    return this.opts.typeName?.(type) ?? `type ${type}`;
  }

  private nextSeq(): number {
    do this.seq = this.seq >= 0xffffffff ? 1 : this.seq + 1;
    while (this.inflight.has(this.seq));
    return this.seq;
  }

  /** Send queued requests in order while the window allows; a dump waits for the previous dump to finish. */
  private pump(): void {
    while (!this.closed && this.queue.length > 0 && this.inflight.size < this.opts.maxInFlight) {
      const p = this.queue[0]!;
      if (p.dump && this.dumpActive) return; // the kernel runs one dump per socket (else EBUSY)
      this.queue.shift();
      p.seq = this.nextSeq();
      new DataView(p.bytes.buffer, p.bytes.byteOffset, 16).setUint32(8, p.seq, HOST_LE);
      p.replies = [];
      p.interrupted = false;
      try {
        this.sys.sendmsg(this.fd, p.bytes, null, null, 0);
      } catch (e) {
        p.reject(e as Error);
        continue;
      }
      this.inflight.set(p.seq, p);
      if (p.dump) this.dumpActive = p;
      p.timer = setTimeout(() => {
        if (this.inflight.get(p.seq) !== p) return;
        this.finish(p);
        p.reject(new NetlinkError(ERRNO.ETIMEDOUT, this.opName(p.type), `no reply within ${p.timeoutMs} ms`));
      }, p.timeoutMs);
    }
  }

  /** Remove a request from the in-flight set and let the queue move. */
  private finish(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = null;
    this.inflight.delete(p.seq);
    if (this.dumpActive === p) this.dumpActive = null;
    queueMicrotask(() => this.pump());
  }

  private fail(p: Pending, e: Error): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = null;
    p.reject(e);
  }

  private surface(e: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  /**
   * Poll callback: drain the socket. Never throws (an exception here would be fatal in the addon).
   * libuv stops a poll handle on POLLERR, which a pending socket error (ENOBUFS after an overrun) raises, and
   * reports UV_EBADF: the drain reads the real error, then the fd is watched again.
   */
  private onReadable(err: Error | null): void {
    if (this.closed) return;
    const failure = this.drain();
    if (!err || this.closed) return;
    if (failure) {
      this.surface(failure); // the fd itself is broken: polling stays stopped
      return;
    }
    try {
      this.poller.stop();
      this.poller = this.sys.poll(this.fd, (e) => this.onReadable(e));
    } catch (e) {
      this.surface(e as Error);
    }
  }

  /** Read until EAGAIN; returns an error other than ENOBUFS that stopped it. */
  private drain(): Error | null {
    for (let i = 0; i < 10_000 && !this.closed; i++) {
      let r: ReturnType<NetlinkSys['recvmsg']>;
      try {
        r = this.sys.recvmsg(this.fd, this.opts.recvSize, 0, 0);
      } catch (e) {
        if ((e as { errno?: number }).errno === ERRNO.ENOBUFS) {
          this.onOverrun();
          continue;
        }
        return e as Error;
      }
      if (r === null) return null;
      try {
        this.onDatagram(r.data, r.addr, r.flags);
      } catch (e) {
        this.surface(e as Error); // a listener threw; keep draining
      }
    }
    return null; // more may wait: the level-triggered poll calls again
  }

  /** The receive buffer overflowed: notifications and possibly acks were lost. */
  private onOverrun(): void {
    // Dumps are flow-controlled by the kernel and lose nothing; unicast replies to other requests may be gone.
    for (const p of [...this.inflight.values()]) {
      if (p.dump) continue;
      this.finish(p);
      p.reject(new NetlinkError(ERRNO.ENOBUFS, this.opName(p.type), 'reply lost to a receive buffer overrun; the request may have been applied'));
    }
    this.emit('overrun');
  }

  private onDatagram(data: Uint8Array, addr: Uint8Array, flags: number): void {
    const groups = parseSockaddrNl(addr)?.groups ?? 0; // non-zero: a multicast notification
    const { messages, error, offset } = decodeNlmsgs(data);
    if (flags & MSG_TRUNC || error) {
      if (groups !== 0) {
        this.emit('overrun');
        return;
      }
      const seqs = new Set(messages.map((m) => m.seq));
      const h = peekHeader(data.subarray(offset));
      if (h) seqs.add(h.seq);
      for (const seq of seqs) {
        const p = this.inflight.get(seq);
        if (!p) continue;
        this.finish(p);
        p.reject(flags & MSG_TRUNC
          ? new NetlinkError(ERRNO.EMSGSIZE, this.opName(p.type), `reply truncated to the ${this.opts.recvSize}-byte receive buffer`)
          : new NetlinkError(ERRNO.EPROTO, this.opName(p.type), `malformed reply: ${error}`));
      }
      return;
    }
    for (const m of messages) {
      if (groups !== 0) {
        if (m.type === NLMSG_OVERRUN) this.emit('overrun');
        else if (m.type !== NLMSG_NOOP) this.emit('event', m);
        continue;
      }
      const p = this.inflight.get(m.seq);
      if (p) this.onReply(p, m);
    }
  }

  private onReply(p: Pending, m: NlMsg): void {
    if (m.flags & NLM_F_DUMP_INTR) p.interrupted = true;
    if (m.type === NLMSG_NOOP) return;
    if (m.type === NLMSG_ERROR) {
      const e = decodeNlmsgErr(m);
      this.finish(p);
      if (!e.ok) p.reject(new NetlinkError(ERRNO.EPROTO, this.opName(p.type), e.error));
      else if (e.value.error !== 0) p.reject(new NetlinkError(e.value.error, this.opName(p.type), undefined, e.value.extAck));
      else p.resolve(p.replies);
      return;
    }
    if (m.type === NLMSG_DONE) {
      const d = decodeNlmsgDone(m);
      this.finish(p);
      if (!d.ok) p.reject(new NetlinkError(ERRNO.EPROTO, this.opName(p.type), d.error));
      else if (d.value.error < 0) p.reject(new NetlinkError(d.value.error, this.opName(p.type), undefined, d.value.extAck));
      else if (p.interrupted && p.dump && p.retries < DUMP_RETRIES) {
        p.retries += 1; // the table changed during the dump (NLM_F_DUMP_INTR): dump again
        this.queue.unshift(p);
      } else if (p.interrupted) {
        p.reject(new NetlinkError(ERRNO.EINTR, this.opName(p.type), `dump inconsistent after ${p.retries + 1} attempts`));
      } else p.resolve(p.replies);
      return;
    }
    p.replies.push(m);
    if (!p.dump && !p.ack && !(m.flags & NLM_F_MULTI)) {
      this.finish(p);
      p.resolve(p.replies);
    }
  }
}
