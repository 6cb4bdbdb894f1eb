// A fake kernel for host tests: nlctrl family resolution and IPVS semantics (ip_vs_ctl.c errnos), parsed independently of the codec.
import type { NetlinkSys } from '../../src/net/netlink.js';
import {
  attrMap, decodeAttrs, decodeNlmsgs, encodeAttrs, encodeNlmsg, nlaBytes, nlaNest, nlaStr, nlaU16, nlaU32, nlaU8,
  readStr, readU16, readU32, type NlAttr, type NlAttrIn, type NlMsg, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTI,
} from '../../src/net/nlmsg.js';
import { sockaddrNl } from '../../src/net/sockaddr.js';

const ERR = { ENOENT: -2, ESRCH: -3, EEXIST: -17, ENODEV: -19, EINVAL: -22, ERANGE: -34 } as const;
export const FAMILY_ID = 0x20;
const SCHEDULERS = new Set(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh']);

interface Svc { af: number; fwmark: number; proto: number; addr: Uint8Array; port: number; sched: string; flags: number; timeout: number; netmask: Uint8Array; dests: Map<string, Dest> }
interface Dest { af: number; addr: Uint8Array; port: number; fwd: number; weight: number; u: number; l: number; active: number }
interface Daemon { state: number; ifn: string; syncid: number; maxlen: number; port: number; ttl: number; group: Uint8Array }

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const nested = (a: NlAttr | undefined): Map<number, NlAttr> => {
  if (!a) return new Map();
  const r = decodeAttrs(a.value);
  return r.ok ? attrMap(r.value) : new Map();
};
const u32 = (m: Map<number, NlAttr>, t: number) => (m.get(t) ? readU32(m.get(t)!.value) : null);
const u16 = (m: Map<number, NlAttr>, t: number) => (m.get(t) ? readU16(m.get(t)!.value) : null);
const be16 = (m: Map<number, NlAttr>, t: number) => (m.get(t) ? readU16(m.get(t)!.value, true) : null);
const i32 = (n: number) => new Uint8Array(new Int32Array([n]).buffer);

export interface Received { cmd: number; flags: number; attrs: Uint8Array }

export class FakeIpvsKernel implements NetlinkSys {
  /** false: the ip_vs module is absent (nlctrl answers ENOENT). */
  ipvs = true;
  interfaces = new Set(['lo', 'eth1']);
  services = new Map<string, Svc>();
  daemons: Daemon[] = [];
  /** Connection timeouts in seconds (IPVS_CMD_SET_CONFIG / GET_CONFIG), the kernel's defaults. */
  timeouts = { tcp: 900, tcpFin: 120, udp: 300 };
  /** Every IPVS request, in arrival order. */
  received: Received[] = [];
  /** The most requests that had arrived while none of them was answered yet. */
  maxUnanswered = 0;
  /** Return an errno to fail a request before the fake processes it. */
  inject: ((r: Received) => number | undefined) | null = null;
  /** True: process the request but send no reply (the kernel's -EINTR: netlink_rcv_skb skips the ack). */
  silent: ((r: Received) => boolean) | null = null;
  closed = false;
  private unanswered = 0;
  private rx: Uint8Array[] = [];
  private cb: ((e: Error | null) => void) | null = null;
  private scheduled = false;

  socket(): number { return 42; }
  bind(): void {}
  setsockopt(): void {}
  close(): void { this.closed = true; }
  poll(_fd: number, cb: (e: Error | null) => void): { stop(): void } {
    this.cb = cb;
    return { stop: () => { if (this.cb === cb) this.cb = null; } };
  }
  recvmsg(): { data: Uint8Array; addr: Uint8Array; control: Uint8Array; flags: number } | null {
    const d = this.rx.shift();
    return d ? { data: d, addr: sockaddrNl(0, 0), control: new Uint8Array(0), flags: 0 } : null;
  }

  sendmsg(_fd: number, data: Uint8Array): number {
    for (const m of decodeNlmsgs(Uint8Array.from(data)).messages) {
      this.unanswered += 1;
      this.maxUnanswered = Math.max(this.maxUnanswered, this.unanswered);
      const reply = this.handle(m);
      if (reply.length > 0) this.rx.push(reply);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => { // replies come later, as from a real socket: never inside sendmsg
        this.scheduled = false;
        this.unanswered = 0;
        this.cb?.(null);
      });
    }
    return data.length;
  }

  private reply(m: NlMsg, cmd: number, attrs: NlAttrIn[], flags = 0): Uint8Array {
    return encodeNlmsg({ type: m.type, flags, seq: m.seq, pid: 0 }, Uint8Array.of(cmd, 1, 0, 0), encodeAttrs(attrs));
  }
  private ack(m: NlMsg, errno = 0): Uint8Array {
    return encodeNlmsg({ type: NLMSG_ERROR, flags: 0x100, seq: m.seq, pid: 0 }, i32(errno), encodeNlmsg({ ...m }).subarray(0, 16));
  }
  private done(m: NlMsg): Uint8Array {
    return encodeNlmsg({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq: m.seq, pid: 0 }, i32(0));
  }

  private handle(m: NlMsg): Uint8Array {
    const cat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
    if (m.type === 0x10) {
      const a = decodeAttrs(m.payload.subarray(4));
      const name = a.ok ? readStr(attrMap(a.value).get(2)?.value ?? new Uint8Array(0)) : '';
      if (!this.ipvs || name !== 'IPVS') return this.ack(m, ERR.ENOENT);
      return cat([this.reply(m, 1, [nlaU16(1, FAMILY_ID), nlaStr(2, 'IPVS'), nlaU32(3, 1), nlaU32(4, 0), nlaU32(5, 6)]), this.ack(m)]);
    }
    const cmd = m.payload[0]!;
    const top = decodeAttrs(m.payload.subarray(4));
    const attrs = top.ok ? attrMap(top.value) : new Map<number, NlAttr>();
    const r: Received = { cmd, flags: m.flags, attrs: m.payload.subarray(4) };
    this.received.push(r);
    const injected = this.inject?.(r);
    if (injected) return this.ack(m, injected);
    const dump = (m.flags & NLM_F_DUMP) === NLM_F_DUMP;
    if (dump) {
      const entries: Uint8Array[] = [];
      if (cmd === 4) for (const s of this.services.values()) entries.push(this.reply(m, 1, [this.svcAttr(s)], NLM_F_MULTI));
      if (cmd === 8) {
        const s = this.find(nested(attrs.get(1)));
        for (const d of s?.dests.values() ?? []) entries.push(this.reply(m, 5, [this.destAttr(d)], NLM_F_MULTI));
      }
      if (cmd === 11) for (const d of this.daemons) entries.push(this.reply(m, 9, [this.daemonAttr(d)], NLM_F_MULTI));
      return cat([...entries, this.done(m)]);
    }
    if (cmd === 15) return cat([this.reply(m, 14, [nlaU32(1, 0x010201), nlaU32(2, 4096)]), this.ack(m)]);
    if (cmd === 13) return cat([this.reply(m, 12, [nlaU32(4, this.timeouts.tcp), nlaU32(5, this.timeouts.tcpFin), nlaU32(6, this.timeouts.udp)]), this.ack(m)]);
    if (cmd === 12) { // ip_vs_genl_set_config: absent or 0 keeps a timeout
      const t = { tcp: u32(attrs, 4), tcpFin: u32(attrs, 5), udp: u32(attrs, 6) };
      if (Object.values(t).some((v) => v !== null && v > 2147483)) return this.ack(m, ERR.EINVAL);
      for (const k of ['tcp', 'tcpFin', 'udp'] as const) if (t[k]) this.timeouts[k] = t[k]!;
      return this.ack(m);
    }
    const errno = this.apply(cmd, attrs);
    if (this.silent?.(r)) return new Uint8Array(0);
    if (cmd === 4 && errno === 0) {
      const s = this.find(nested(attrs.get(1)))!;
      return cat([this.reply(m, 1, [this.svcAttr(s)]), (m.flags & NLM_F_ACK) ? this.ack(m) : new Uint8Array(0)]);
    }
    return this.ack(m, errno);
  }

  private key(af: number, fwmark: number, proto: number, addr: Uint8Array, port: number): string {
    return fwmark ? `f${af}:${fwmark}` : `${af}:${proto}:${hex(addr)}:${port}`;
  }

  private find(m: Map<number, NlAttr>): Svc | undefined {
    const af = u16(m, 1) ?? 0;
    const fwmark = u32(m, 5) ?? 0;
    return this.services.get(this.key(af, fwmark, fwmark ? 6 : u16(m, 2) ?? 0, m.get(3)?.value ?? new Uint8Array(16), fwmark ? 0 : be16(m, 4) ?? 0));
  }

  /** ip_vs_genl_set_cmd / set_daemon: 0 or a negative errno. */
  private apply(cmd: number, attrs: Map<number, NlAttr>): number {
    if (cmd === 9 || cmd === 10) return this.daemon(cmd, nested(attrs.get(3)));
    if (cmd === 16 && !attrs.get(1)) return 0;
    const sm = nested(attrs.get(1));
    const af = u16(sm, 1);
    const fwmark = u32(sm, 5) ?? 0;
    if (af === null || (!fwmark && !(sm.get(2) && sm.get(3) && sm.get(4)))) return ERR.EINVAL;
    if (af !== 2 && af !== 10) return -97;
    const svc = this.find(sm);
    if (cmd === 1 || cmd === 2) {
      const sched = sm.get(6) ? readStr(sm.get(6)!.value) : null;
      const fl = sm.get(7)?.value;
      if (sched === null || !fl || !sm.get(8) || !sm.get(9)) return ERR.EINVAL;
      if (!SCHEDULERS.has(sched)) return ERR.ENOENT;
      const netmask = sm.get(9)!.value.slice(0, 4);
      if (af === 10 && ((readU32(netmask) ?? 0) < 1 || (readU32(netmask) ?? 0) > 128)) return ERR.EINVAL;
      const flags = (readU32(fl) ?? 0) & (readU32(fl.subarray(4)) ?? 0);
      if (cmd === 1) {
        if (svc) return ERR.EEXIST;
        const addr = fwmark ? new Uint8Array(16) : sm.get(3)!.value.slice(0, 16);
        const s: Svc = { af, fwmark, proto: fwmark ? 6 : u16(sm, 2)!, addr, port: fwmark ? 0 : be16(sm, 4)!, sched, flags: flags | 2, timeout: u32(sm, 8)!, netmask, dests: new Map() };
        this.services.set(this.key(af, fwmark, s.proto, addr, s.port), s);
        return 0;
      }
      if (!svc) return ERR.ESRCH;
      Object.assign(svc, { sched, flags: flags | 2, timeout: u32(sm, 8)!, netmask });
      return 0;
    }
    if (cmd === 4) return svc ? 0 : ERR.ESRCH;
    if (!svc) return ERR.ESRCH;
    if (cmd === 3) {
      this.services.delete(this.key(svc.af, svc.fwmark, svc.proto, svc.addr, svc.port));
      return 0;
    }
    if (cmd === 16) return 0;
    const dm = nested(attrs.get(2));
    if (!dm.get(1) || !dm.get(2)) return ERR.EINVAL;
    const dAf = u16(dm, 11) ?? svc.af;
    const addr = dm.get(1)!.value.slice(0, 16);
    const dk = `${dAf}:${hex(addr)}:${be16(dm, 2)}`;
    const dest = svc.dests.get(dk);
    if (cmd === 7) return dest ? (svc.dests.delete(dk), 0) : ERR.ENOENT;
    const [fwd, weight, u, l] = [u32(dm, 3), u32(dm, 4), u32(dm, 5), u32(dm, 6)];
    if (fwd === null || weight === null || u === null || l === null) return ERR.EINVAL;
    if ((weight | 0) < 0 || l > u) return ERR.ERANGE;
    if (dAf !== svc.af && (fwd & 7) !== 2) return ERR.EINVAL;
    if (cmd === 5) {
      if (dest) return ERR.EEXIST;
      svc.dests.set(dk, { af: dAf, addr, port: be16(dm, 2)!, fwd: fwd & 7, weight, u, l, active: 0 });
      return 0;
    }
    if (!dest) return ERR.ENOENT;
    Object.assign(dest, { fwd: fwd & 7, weight, u, l });
    return 0;
  }

  private daemon(cmd: number, m: Map<number, NlAttr>): number {
    const state = u32(m, 1);
    if (state !== 1 && state !== 2) return ERR.EINVAL;
    if (cmd === 10) {
      const i = this.daemons.findIndex((d) => d.state === state);
      if (i < 0) return ERR.ESRCH;
      this.daemons.splice(i, 1);
      return 0;
    }
    const ifn = m.get(2) ? readStr(m.get(2)!.value) : null;
    const syncid = u32(m, 3);
    if (ifn === null || syncid === null) return ERR.EINVAL;
    if (this.daemons.some((d) => d.state === state)) return ERR.EEXIST;
    if (!this.interfaces.has(ifn)) return ERR.ENODEV;
    this.daemons.push({
      state, ifn, syncid, maxlen: u16(m, 4) ?? 1472, port: u16(m, 7) ?? 8848, ttl: m.get(8)?.value[0] ?? 1,
      group: m.get(5)?.value.slice(0, 4) ?? Uint8Array.of(224, 0, 0, 81),
    });
    return 0;
  }

  // Replies in the kernel's layout: nests without NLA_F_NESTED (ip_vs_genl_fill_*).
  private svcAttr(s: Svc): NlAttrIn {
    const a: NlAttrIn[] = [nlaU16(1, s.af)];
    if (s.fwmark) a.push(nlaU32(5, s.fwmark));
    else a.push(nlaU16(2, s.proto), nlaBytes(3, s.addr), nlaU16(4, s.port, true));
    const flags = new Uint8Array(8);
    new DataView(flags.buffer).setUint32(0, s.flags, true);
    new DataView(flags.buffer).setUint32(4, 0xffffffff, true);
    a.push(nlaStr(6, s.sched), nlaBytes(7, flags), nlaU32(8, s.timeout), nlaBytes(9, s.netmask),
      nlaNest(10, [nlaU32(1, 7), nlaU32(2, 70), nlaU32(3, 0), { type: 4, value: new Uint8Array(new BigUint64Array([7000n]).buffer) }], false));
    return nlaNest(1, a, false);
  }
  private destAttr(d: Dest): NlAttrIn {
    return nlaNest(2, [nlaBytes(1, d.addr), nlaU16(2, d.port, true), nlaU32(3, d.fwd), nlaU32(4, d.weight), nlaU32(5, d.u), nlaU32(6, d.l),
      nlaU32(7, d.active), nlaU32(8, 0), nlaU32(9, 0), nlaU16(11, d.af), nlaNest(10, [nlaU32(1, 3)], false)], false);
  }
  private daemonAttr(d: Daemon): NlAttrIn {
    return nlaNest(3, [nlaU32(1, d.state), nlaStr(2, d.ifn), nlaU32(3, d.syncid), nlaU16(4, d.maxlen), nlaU16(7, d.port),
      nlaU8(8, d.ttl), nlaBytes(5, d.group)], false);
  }

  /** Add a service the way another tool would (a "foreign" service), IPv4 only. */
  addForeign(proto: 'tcp' | 'udp', addr: string, port: number, sched = 'rr'): void {
    const a = new Uint8Array(16);
    a.set(addr.split('.').map(Number));
    const p = proto === 'tcp' ? 6 : 17;
    this.services.set(this.key(2, 0, p, a, port), { af: 2, fwmark: 0, proto: p, addr: a, port, sched, flags: 2, timeout: 0, netmask: Uint8Array.of(255, 255, 255, 255), dests: new Map() });
  }

  /** The names of the IPVS commands received, e.g. ['NEW_SERVICE', 'NEW_DEST']. */
  get commands(): string[] {
    const names = ['', 'NEW_SERVICE', 'SET_SERVICE', 'DEL_SERVICE', 'GET_SERVICE', 'NEW_DEST', 'SET_DEST', 'DEL_DEST', 'GET_DEST',
      'NEW_DAEMON', 'DEL_DAEMON', 'GET_DAEMON', 'SET_CONFIG', 'GET_CONFIG', 'SET_INFO', 'GET_INFO', 'ZERO', 'FLUSH'];
    return this.received.map((r) => names[r.cmd] ?? String(r.cmd));
  }

  /** Writes only (GET_* left out). */
  get writes(): string[] {
    return this.commands.filter((c) => !c.startsWith('GET_'));
  }
}
