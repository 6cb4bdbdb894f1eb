// VIP addresses (rtnetlink, in order, not awaited one by one) and gratuitous ARP / NA bursts for a runner.
import type { Logger } from 'pino';
import { gratuitousArp, unsolicitedNa } from '../protocol/frames.js';
import type { NetIO, PacketChannel } from '../net/ports.js';
import type { Runner, VipPlace } from './runner.js';

/** Told of every VIP request, so the address watch knows our own notifications (daemon/addresses.ts). */
export interface VipRequestObserver {
  expect(op: 'add' | 'del', ifindex: number, address: string): void;
  /** The kernel refused it: no notification will come. */
  unexpect(op: 'add' | 'del', ifindex: number, address: string): void;
}

export class VipOps {
  observer: VipRequestObserver | null = null;

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

  private sendGarp(r: Runner, p: VipPlace): void {
    const ch = this.packetChannels.get(p.ifindex);
    if (!ch || !p.mac) return;
    try {
      ch.send(p.vip.family === 4 ? gratuitousArp(p.mac, p.vip.address) : unsolicitedNa(p.mac, p.vip.address));
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
