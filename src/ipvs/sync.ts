// IPVS connection-sync daemon by VRRP role: master sync daemon on MASTER, backup on BACKUP (config ipvs.syncDaemon).
import type { Config } from '../config/schema.js';
import { canonicalAddress } from '../protocol/addr.js';
import type { IpvsDaemonOps } from './client.js';
import type { DaemonSpec, SyncState } from './codec.js';

export type SyncDaemonSettings = NonNullable<Config['ipvs']['syncDaemon']>;
/** none: stop our daemons (FAULT, shutdown, IPVS off). */
export type SyncRole = SyncState | 'none';

/** The daemon the config asks for in a state (multicast group, port, TTL, maxlen only when configured). */
export function syncDaemonSpec(cfg: SyncDaemonSettings, state: SyncState): DaemonSpec {
  const d: DaemonSpec = { state, interface: cfg.interface, syncId: cfg.syncId };
  if (cfg.maxLen !== undefined) d.maxLen = cfg.maxLen;
  if (cfg.multicastGroup !== undefined) d.group = canonicalAddress(cfg.multicastGroup) ?? cfg.multicastGroup;
  if (cfg.port !== undefined) d.port = cfg.port;
  if (cfg.ttl !== undefined) d.ttl = cfg.ttl;
  return d;
}

/**
 * A running daemon is the wanted one when interface and sync id match, and each option we set matches when the
 * kernel reports it (before Linux 4.3 it reports none; it may clamp maxlen to the interface MTU).
 */
export function daemonMatches(want: DaemonSpec, have: DaemonSpec): boolean {
  if (want.state !== have.state || want.interface !== have.interface || want.syncId !== have.syncId) return false;
  const same = <T>(w: T | undefined, h: T | undefined) => w === undefined || h === undefined || w === h;
  return same(want.maxLen, have.maxLen) && same(want.group && canonicalAddress(want.group), have.group) &&
    same(want.port, have.port) && same(want.ttl, have.ttl);
}

export interface SyncPlan {
  stop: SyncState[];
  start: DaemonSpec[];
}

/**
 * What to stop and start so that `want` runs: a daemon in a state not wanted, or running with other settings, is
 * stopped (the kernel keeps one master and one backup at most); `ours` limits the stopping to daemons on our
 * interface and sync id (with role none).
 */
export function planSyncDaemons(want: readonly DaemonSpec[], running: readonly DaemonSpec[], ours?: (d: DaemonSpec) => boolean): SyncPlan {
  const plan: SyncPlan = { stop: [], start: [] };
  for (const state of ['master', 'backup'] as const) {
    const w = want.find((d) => d.state === state);
    const r = running.find((d) => d.state === state);
    const keep = r && w && daemonMatches(w, r);
    if (r && !keep && (w || !ours || ours(r))) plan.stop.push(state);
    if (w && !keep) plan.start.push(w);
  }
  return plan;
}

/**
 * Run the daemon of a role: master on MASTER, backup on BACKUP; our daemon in the other state (same interface and
 * sync id) is stopped, and on 'none' both. A foreign daemon in a state we do not want is left running.
 * Idempotent; reads back the running daemons. Without sync daemon settings nothing is touched.
 */
export async function setSyncRole(client: IpvsDaemonOps, cfg: SyncDaemonSettings | undefined, role: SyncRole):
  Promise<SyncPlan & { running: DaemonSpec[]; ok: boolean }> {
  if (!cfg) return { stop: [], start: [], running: await client.listDaemons(), ok: true };
  const want = role === 'none' ? [] : [syncDaemonSpec(cfg, role)];
  const ours = (d: DaemonSpec) => d.interface === cfg.interface && d.syncId === cfg.syncId;
  const plan = planSyncDaemons(want, await client.listDaemons(), ours);
  for (const state of plan.stop) await client.stopDaemon(state);
  for (const d of plan.start) await client.startDaemon(d);
  const running = await client.listDaemons();
  const ok = want.every((w) => running.some((r) => daemonMatches(w, r))) &&
    running.every((r) => want.some((w) => w.state === r.state) || !ours(r));
  return { ...plan, running, ok };
}
