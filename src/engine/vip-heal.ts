// Self-healing VIPs: a MASTER puts back VIPs someone else deleted; a BACKUP/FAULT removes ours that someone added.
import { csToMs } from './timers.js';
import type { Action, InstanceConfig, InstanceState } from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The part of instance.ts's step() draft these rules touch. */
export interface HealDraft {
  s: Mutable<InstanceState>;
  cfg: InstanceConfig;
  now: number;
  out: Action[];
  late: Action[];
}

/**
 * A second loss this soon after a restore waits for the Adver_Timer: another program that keeps
 * deleting the VIPs (a network manager) gets at most one restore and one GARP burst a second.
 */
export function vipRestoreHoldoffMs(cfg: InstanceConfig): number {
  return Math.max(1000, csToMs(cfg.advertIntervalCs));
}

function restore(d: HealDraft, addresses: readonly string[], seen: string, deferredMs?: number): void {
  const { s, cfg, now } = d;
  // RFC 5798 §6.4.1 says a new master "broadcast[s] a gratuitous ARP request" for its addresses: a
  // restored VIP is announced the same way, since neighbours may have dropped or moved it.
  d.out.push({ type: 'addVips' });
  if (cfg.garp.masterRepeat > 0) d.out.push({ type: 'announce', count: cfg.garp.masterRepeat, cause: 'vip-restored' });
  s.vipsMissing = [];
  s.lastVipRestoreAt = now;
  s.counters.vipRestores++;
  d.late.push({ type: 'vipsHealed', heal: 'restored', addresses: [...addresses], seen, ...(deferredMs !== undefined ? { deferredMs } : {}) });
}

/** Our VIPs vanished: a MASTER holding them puts them back at once (or at the next advert within the holdoff). */
export function onVipsLost(d: HealDraft, addresses: readonly string[], seen: string): void {
  const { s, now } = d;
  if (s.state !== 'MASTER' || !s.vipsHeld || addresses.length === 0) return;
  if (s.lastVipRestoreAt !== null && now - s.lastVipRestoreAt < vipRestoreHoldoffMs(d.cfg)) {
    s.vipsMissing = [...new Set([...s.vipsMissing, ...addresses])];
    return;
  }
  restore(d, addresses, seen);
}

/** Adver_Timer tick of a MASTER: VIPs lost within the holdoff are restored once it has passed. */
export function onAdvertTick(d: HealDraft): void {
  const { s, now } = d;
  if (s.vipsMissing.length === 0) return;
  if (s.state !== 'MASTER' || !s.vipsHeld) {
    s.vipsMissing = [];
    return;
  }
  const since = s.lastVipRestoreAt ?? now;
  if (now - since < vipRestoreHoldoffMs(d.cfg)) return;
  restore(d, s.vipsMissing, 'lost again within the restore holdoff', now - since);
}

/**
 * Our VIPs appeared on a BACKUP or FAULT router: a duplicate address is worse than a missing one
 * (RFC 5798 §6.4.2: a Backup MUST NOT answer ARP for, nor accept packets to, the virtual addresses), so they go.
 */
export function onVipsPresent(d: HealDraft, addresses: readonly string[], seen: string): void {
  const { s } = d;
  if ((s.state !== 'BACKUP' && s.state !== 'FAULT') || s.vipsHeld || addresses.length === 0) return;
  d.out.push({ type: 'removeVips' });
  s.counters.vipRemovals++;
  d.late.push({ type: 'vipsHealed', heal: 'removed', addresses: [...addresses], seen });
}
