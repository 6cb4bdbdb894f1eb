// The sockets the instances share: one VRRP socket per interface and family, one packet socket per VIP interface.
import type { Logger } from 'pino';
import type { NetIO, PacketChannel, VrrpChannel, VrrpRx } from '../net/ports.js';
import type { Runner } from './runner.js';

const keyOf = (r: Runner): string => `${r.family}/${r.ifindex}`;

export class Channels {
  private readonly vrrp = new Map<string, VrrpChannel>();
  /** The VRIDs each VRRP socket lets through its kernel filter. */
  private readonly vrids = new Map<string, Set<number>>();
  /** By ifindex: where GARPs and NAs for the VIPs leave. */
  readonly packet = new Map<number, PacketChannel>();

  constructor(private readonly io: NetIO, private readonly log: Logger, private readonly onPacket: (rx: VrrpRx) => void) {}

  /** The VRRP socket a runner sends and receives on. */
  of(r: Runner): VrrpChannel | undefined {
    return this.vrrp.get(keyOf(r));
  }

  /** Open what a runner needs (shared with other runners on the same interface). */
  open(r: Runner): void {
    const key = keyOf(r);
    if (!this.vrrp.has(key)) {
      this.vrrp.set(key, this.io.openVrrp(r.family, r.settings.interface, r.ifindex, this.onPacket,
        (e) => this.log.error({ err: e.message, interface: r.settings.interface }, 'VRRP socket error')));
    }
    const vrids = this.vrids.get(key) ?? new Set<number>();
    this.vrids.set(key, vrids);
    if (!vrids.has(r.settings.vrid)) {
      vrids.add(r.settings.vrid);
      this.filter(key);
    }
    for (const p of r.vips) {
      if (!this.packet.has(p.ifindex)) this.packet.set(p.ifindex, this.io.openPacket(p.dev, p.ifindex));
    }
  }

  /** The kernel drops what is not an advert for one of this socket's VRIDs (net/bpf.ts); a failure only costs CPU. */
  private filter(key: string): void {
    try {
      this.vrrp.get(key)?.setFilter?.([...(this.vrids.get(key) ?? [])]);
    } catch (e) {
      this.log.warn({ err: (e as Error).message, socket: key }, 'VRRP socket filter not attached: every packet reaches the decoder');
    }
  }

  /** Packets the kernel dropped on full VRRP receive queues, by socket (family/ifindex). */
  socketDrops(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, ch] of this.vrrp) out[key] = ch.drops?.() ?? 0;
    return out;
  }

  /** Read adverts already queued in the kernel (before a timer acts on their absence). */
  drain(): void {
    for (const ch of this.vrrp.values()) ch.drain?.();
  }

  /** Close the VRRP sockets no remaining runner uses, once their queued sends left. */
  async closeUnused(runners: readonly Runner[]): Promise<void> {
    const used = new Set(runners.map(keyOf));
    for (const [key, set] of this.vrids) {
      const now = new Set(runners.filter((r) => keyOf(r) === key).map((r) => r.settings.vrid));
      if (used.has(key) && (now.size !== set.size || [...now].some((v) => !set.has(v)))) {
        this.vrids.set(key, now);
        this.filter(key);
      }
    }
    for (const [key, ch] of this.vrrp) {
      if (used.has(key)) continue;
      this.vrids.delete(key);
      await ch.flush();
      ch.close();
      this.vrrp.delete(key);
    }
  }

  flush(): Promise<void>[] {
    return [...this.vrrp.values()].map((c) => c.flush());
  }

  close(): void {
    for (const c of this.vrrp.values()) c.close();
    for (const c of this.packet.values()) c.close();
  }
}
