// VIP addresses (rtnetlink, in order, not awaited one by one) and gratuitous ARP / NA bursts for a runner.
import type { Logger } from 'pino';
import { gratuitousArp, unsolicitedNa } from '../protocol/frames.js';
import type { NetIO, PacketChannel } from '../net/ports.js';
import { encodeNlmsg } from '../net/nlmsg.js';
import { addrPayload, RTM_NEWADDR } from '../net/rtnetlink.js';
import type { Runner, VipPlace } from './runner.js';

/** Told of every VIP request, so the address watch knows our own notifications (daemon/addresses.ts). */
export interface VipRequestObserver {
  expect(op: 'add' | 'del', ifindex: number, address: string): void;
  /** The kernel refused it: no notification will come. */
  unexpect(op: 'add' | 'del', ifindex: number, address: string): void;
}

export class VipOps {
  observer: VipRequestObserver | null = null;
  /** GARP/NA frames by interface, MAC and address: a pure function of them, built once and sent as they are. */
  private readonly frames = new Map<string, Uint8Array>();

  constructor(private readonly io: NetIO, private readonly packetChannels: ReadonlyMap<number, PacketChannel>, private readonly log: Logger) {}

  /**
   * Every request leaves now, in order (the kernel applies rtnetlink requests as they are sent), so
   * a GARP sent right after follows the address; the acks are awaited only to log failures.
   */
  async setList(r: Runner, places: VipPlace[], add: boolean): Promise<void> {
    const io = this.io;
    const pending = places.map((p) => {
      const a = { ifindex: p.ifindex, family: p.vip.family, address: p.vip.address, prefixLen: p.vip.prefixLen };
      const op = add ? 'add' : 'del';
      this.observer?.expect(op, p.ifindex, p.vip.address);
      const req = add ? io.addAddress(p.vip.label ? { ...a, label: p.vip.label, ifname: p.dev } : a) : io.deleteAddress(a);
      return req.catch((e: unknown) => {
        this.observer?.unexpect(op, p.ifindex, p.vip.address);
        const code = (e as NodeJS.ErrnoException).code;
        if ((add && code === 'EEXIST') || (!add && (code === 'EADDRNOTAVAIL' || code === 'ENOENT' || code === 'ENODEV'))) return;
        this.log.error({ instance: r.name, vip: p.vip.address, dev: p.dev, err: (e as Error).message }, add ? 'cannot add VIP' : 'cannot remove VIP');
      });
    });
    await Promise.all(pending);
  }

  private frame(p: VipPlace, mac: string): Uint8Array {
    const key = `${p.ifindex}/${mac}/${p.vip.address}`;
    let f = this.frames.get(key);
    if (!f) {
      f = p.vip.family === 4 ? gratuitousArp(mac, p.vip.address) : unsolicitedNa(mac, p.vip.address);
      this.frames.set(key, f);
    }
    return f;
  }

  /**
   * Before an instance can take over: its GARP/NA frames built and its address requests encoded once (not sent), so a
   * takeover's first VIP request and GARP do not run cold code (bench/failover: a fresh daemon's first GARP came 11 ms
   * after its first advert, later ones ~1-2 ms).
   */
  warm(r: Runner): void {
    for (const p of r.vips) {
      if (p.mac) this.frame(p, p.mac);
      try {
        encodeNlmsg({ type: RTM_NEWADDR, flags: 0, seq: 0, pid: 0 },
          addrPayload({ ifindex: p.ifindex, family: p.vip.family, address: p.vip.address, prefixLen: p.vip.prefixLen }));
      } catch { /* the real request meets (and logs) the same error */ }
    }
  }

  private sendGarp(r: Runner, p: VipPlace): void {
    const ch = this.packetChannels.get(p.ifindex);
    if (!ch || !p.mac) return;
    try {
      ch.send(this.frame(p, p.mac));
      r.garpSent++;
    } catch (e) {
      this.log.error({ instance: r.name, vip: p.vip.address, err: (e as Error).message }, 'GARP send failed');
    }
  }

  /**
   * count rounds over the VIPs (keepalived's order), spaced by garp.interval when set; without a gap
   * the burst goes out now, right behind the advert and the VIP requests.
   */
  async announce(r: Runner, places: VipPlace[], count: number): Promise<void> {
    if (!r.inst.state.vipsHeld) return; // left MASTER before the burst was due
    const gap = r.settings.garp.interval;
    for (let round = 0; round < count; round++) {
      for (const p of places) {
        if (!r.inst.state.vipsHeld) return;
        this.sendGarp(r, p);
        if (gap > 0) await new Promise((res) => setTimeout(res, gap));
      }
    }
  }
}
