// Our VIPs as rtnetlink reports them: address events not caused by us become engine facts (vipsLost / vipsPresent).
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { EngineEvent } from '../engine/types.js';
import { canonicalAddress } from '../protocol/addr.js';
import type { Addr, Link } from '../net/ports.js';
import type { Runner, VipPlace } from './runner.js';

type Op = 'add' | 'del';

/** How long a request of ours waits for its notification before we stop expecting it. */
const EXPECT_MS = 5000;

export interface AddressHost {
  log: Logger;
  now(): number;
  runners(): readonly Runner[];
  feed(r: Runner, ev: EngineEvent): void;
  /** The interface's name, for the log. */
  linkName(ifindex: number): string | undefined;
  /** A fresh address table (after an overrun, or a link that came back up). */
  addresses(): Promise<Addr[]>;
}

const key = (ifindex: number, address: string): string => `${ifindex}|${canonicalAddress(address) ?? address}`;
const placeKey = (p: VipPlace): string => key(p.ifindex, p.vip.address);

/**
 * Who changed an address, as far as netlink says: for IPv4 the notification carries the requesting
 * socket's netlink port id (iproute2's is its pid); IPv6 notifications, and changes the kernel makes
 * itself (an interface going down drops its IPv6 addresses), carry 0.
 */
export function describeSender(sender: number | undefined, family: 4 | 6): string {
  if (!sender) {
    return family === 6 ? 'sender unknown (rtnetlink carries no port id for IPv6 address changes)' : 'sender unknown (port id 0: the kernel, or not said)';
  }
  let comm = '';
  try {
    comm = readFileSync(`/proc/${sender}/comm`, 'utf8').trim();
  } catch { /* gone already, or the port id is not a pid */ }
  return `netlink port ${sender}${comm ? ` (pid ${sender} is "${comm}")` : ' (no process with that pid now)'}`;
}

/**
 * Tells our own VIP requests' notifications from everyone else's: VipOps announces each request
 * (expect), and withdraws it when the kernel refused it (no notification will come). What is left is
 * someone else's doing, batched per runner within one event-loop turn and fed to the engine, which
 * decides (engine/vip-heal.ts).
 */
export class AddressWatch {
  private readonly expected = new Map<string, number[]>();
  private readonly lost = new Map<Runner, Map<string, string>>();
  private readonly present = new Map<Runner, Map<string, string>>();
  private readonly linkUp = new Map<number, boolean>();
  private flushing: NodeJS.Immediate | null = null;
  private stopped = false;

  constructor(private readonly host: AddressHost) {}

  /** A request of ours has left: its notification is not someone else's. */
  expect(op: Op, ifindex: number, address: string): void {
    const k = `${op}|${key(ifindex, address)}`;
    const now = this.host.now();
    const list = (this.expected.get(k) ?? []).filter((t) => now - t < EXPECT_MS);
    list.push(now);
    this.expected.set(k, list);
  }

  /** The kernel refused a request of ours (EEXIST, EADDRNOTAVAIL): no notification will come. */
  unexpect(op: Op, ifindex: number, address: string): void {
    this.consume(`${op}|${key(ifindex, address)}`);
  }

  private consume(k: string): boolean {
    const now = this.host.now();
    const list = (this.expected.get(k) ?? []).filter((t) => now - t < EXPECT_MS);
    const hit = list.length > 0;
    list.shift();
    if (list.length) this.expected.set(k, list);
    else this.expected.delete(k);
    return hit;
  }

  /** One RTM_NEWADDR / RTM_DELADDR notification. */
  onAddress(op: Op, a: Addr, sender?: number): void {
    if (this.stopped) return;
    const k = key(a.index, a.address);
    if (this.consume(`${op}|${k}`)) return;
    const dev = this.host.linkName(a.index);
    const seen = `${op === 'del' ? 'RTM_DELADDR' : 'RTM_NEWADDR'} ifindex ${a.index}${dev ? ` (${dev})` : ''} ${a.address}/${a.prefixLen}`
      + `${a.label ? ` label ${a.label}` : ''}; ${describeSender(sender, a.family)}`;
    this.note(op, k, a.address, seen);
  }

  private note(op: Op, k: string, address: string, seen: string): void {
    const runners = this.host.runners();
    for (const r of runners) {
      if (!r.vips.some((p) => placeKey(p) === k)) continue;
      if (op === 'del') {
        if (r.inst.state.vipsHeld) this.add(this.lost, r, address, seen);
        continue;
      }
      // An address another instance of ours holds is not a stray.
      const heldElsewhere = runners.some((o) => o !== r && o.inst.state.vipsHeld && o.vips.some((p) => placeKey(p) === k));
      if (!r.inst.state.vipsHeld && !heldElsewhere) this.add(this.present, r, address, seen);
    }
  }

  private add(m: Map<Runner, Map<string, string>>, r: Runner, address: string, seen: string): void {
    const byAddr = m.get(r) ?? new Map<string, string>();
    byAddr.set(address, seen);
    m.set(r, byAddr);
    this.flushing ??= setImmediate(() => this.flush());
  }

  /** Everything noted in this event-loop turn, one engine event per runner and kind. */
  private flush(): void {
    this.flushing = null;
    const live = new Set(this.host.runners());
    for (const [m, type] of [[this.lost, 'vipsLost'], [this.present, 'vipsPresent']] as const) {
      for (const [r, byAddr] of m) {
        if (!live.has(r)) continue;
        const seen = [...new Set(byAddr.values())].join('; ');
        this.host.feed(r, { type, addresses: [...byAddr.keys()], seen });
      }
      m.clear();
    }
  }

  /**
   * A link event. An interface that comes back up gets its table checked: the kernel drops IPv6
   * addresses when an interface goes down (IPv4 ones stay), and a MASTER wants them back.
   */
  onLink(l: Link): void {
    const was = this.linkUp.get(l.index);
    const now = l.up && l.running;
    this.linkUp.set(l.index, now);
    if (was === false && now) void this.reconcile(`interface ${l.name} came back up`, l.index);
  }

  /** Compare a fresh table with what every instance should hold (after an overrun or a link up). */
  async reconcile(why: string, ifindex?: number): Promise<void> {
    let addrs: Addr[];
    try {
      addrs = await this.host.addresses();
    } catch (e) {
      this.host.log.error({ err: (e as Error).message }, 'cannot read addresses to check the VIPs');
      return;
    }
    if (this.stopped) return;
    const have = new Set(addrs.map((a) => key(a.index, a.address)));
    for (const r of this.host.runners()) {
      for (const p of r.vips) {
        if (ifindex !== undefined && p.ifindex !== ifindex) continue;
        const k = placeKey(p);
        if (r.inst.state.vipsHeld && !have.has(k)) this.note('del', k, p.vip.address, `${why}: ${p.vip.address} not on ${p.dev}`);
        else if (!r.inst.state.vipsHeld && have.has(k)) this.note('add', k, p.vip.address, `${why}: ${p.vip.address} found on ${p.dev}`);
      }
    }
  }

  /** The table at start or reload: link states to compare later events with. */
  loadLinks(links: readonly Link[]): void {
    for (const l of links) this.linkUp.set(l.index, l.up && l.running);
  }

  stop(): void {
    this.stopped = true;
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
  }
}
