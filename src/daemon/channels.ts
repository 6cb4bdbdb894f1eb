// The sockets the instances share: one VRRP socket per interface and family, one packet socket per VIP interface.
import type { Logger } from 'pino';
import type { NetIO, PacketChannel, VrrpChannel, VrrpRx } from '../net/ports.js';
import type { DropReason } from '../protocol/drop.js';
import type { AdvertPath, Runner } from './runner.js';

const keyOf = (r: Runner): string => `${r.family}/${r.ifindex}`;
const pathKey = (r: Runner, p: AdvertPath): string => `${r.family}/${p.ifindex}`;
/** Every socket a runner uses: its interface's, and one per extra advert path. */
const keysOf = (r: Runner): { key: string; ifname: string; ifindex: number }[] =>
  [{ key: keyOf(r), ifname: r.settings.interface, ifindex: r.ifindex },
    ...r.paths.map((p) => ({ key: pathKey(r, p), ifname: p.interface, ifindex: p.ifindex }))];

/** Where one advert leaves: a socket, our source on that link, the destination. */
export interface AdvertTarget { ch: VrrpChannel; src: string; dst: string }

/** The instance a received advert is for; `local`: our address on the extra path it came over. */
export type Route = { runner: Runner; local?: string } | { drop: DropReason; detail: string };

export class Channels {
  private readonly vrrp = new Map<string, VrrpChannel>();
  /** The VRIDs each VRRP socket lets through its kernel filter. */
  private readonly vrids = new Map<string, Set<number>>();
  /** By ifindex: where GARPs and NAs for the VIPs leave. */
  readonly packet = new Map<number, PacketChannel>();
  private readonly errors = new Map<string, { code: string; n: number }>();

  constructor(private readonly io: NetIO, private readonly log: Logger, private readonly onPacket: (rx: VrrpRx) => void) {}

  /** The VRRP socket a runner sends and receives on. */
  of(r: Runner): VrrpChannel | undefined {
    return this.vrrp.get(keyOf(r));
  }

  /** Where a runner's adverts leave: its destinations on its interface, then each extra path's peer. */
  targets(r: Runner): AdvertTarget[] {
    const out: AdvertTarget[] = [];
    const ch = this.of(r);
    if (ch) for (const dst of r.advertDsts) out.push({ ch, src: r.engineCfg.primaryAddress, dst });
    for (const p of r.paths) {
      const pc = this.vrrp.get(pathKey(r, p));
      if (pc && p.src !== null) out.push({ ch: pc, src: p.src, dst: p.peer });
    }
    return out;
  }

  /**
   * The runner an advert received on (ifindex, family) for `vrid` belongs to: the instance on that
   * interface, or the one with an extra path there, from that path's peer only.
   */
  route(runners: readonly Runner[], rx: VrrpRx, vrid: number, src: string): Route {
    const own = runners.find((x) => x.ifindex === rx.ifindex && x.family === rx.family && x.settings.vrid === vrid);
    if (own) return { runner: own };
    for (const r of runners) {
      if (r.family !== rx.family || r.settings.vrid !== vrid) continue;
      const p = r.paths.find((x) => x.ifindex === rx.ifindex);
      if (!p) continue;
      if (src !== p.peer) return { drop: 'not-path-peer', detail: `extra path ${p.interface} of ${r.name} takes adverts from ${p.peer} only` };
      return p.src === null ? { runner: r } : { runner: r, local: p.src };
    }
    return { drop: 'vrid-not-configured', detail: `VRID ${vrid}` };
  }

  /** Open what a runner needs (shared with other runners on the same interface). */
  open(r: Runner): void {
    for (const { key, ifname, ifindex } of keysOf(r)) {
      if (!this.vrrp.has(key)) {
        this.vrrp.set(key, this.io.openVrrp(r.family, ifname, ifindex, this.onPacket, (e) => this.socketError(key, ifname, e)));
      }
      const vrids = this.vrids.get(key) ?? new Set<number>();
      this.vrids.set(key, vrids);
      if (!vrids.has(r.settings.vrid)) {
        vrids.add(r.settings.vrid);
        this.filter(key);
      }
    }
    for (const p of r.vips) {
      if (!this.packet.has(p.ifindex)) this.packet.set(p.ifindex, this.io.openPacket(p.dev, p.ifindex));
    }
  }

  /**
   * A cut link fails every send on its socket (each advert interval, while another path carries the
   * pair): logged at error when the error changes and every 100th repeat, at debug otherwise.
   */
  private socketError(key: string, ifname: string, e: Error): void {
    const code = (e as NodeJS.ErrnoException).code ?? e.message;
    const last = this.errors.get(key);
    const n = last?.code === code ? last.n + 1 : 1;
    this.errors.set(key, { code, n });
    this.log[n % 100 === 1 ? 'error' : 'debug']({ err: e.message, interface: ifname, repeated: n }, 'VRRP socket error');
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
    const used = new Set(runners.flatMap((r) => keysOf(r).map((k) => k.key)));
    for (const [key, set] of this.vrids) {
      const now = new Set(runners.filter((r) => keysOf(r).some((k) => k.key === key)).map((r) => r.settings.vrid));
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
