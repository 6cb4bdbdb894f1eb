// Reload planning: which instances are unchanged, changed live, restarted, removed or added (pure).
import { isDeepStrictEqual } from 'node:util';
import type { Config, InstanceSettings } from '../config/schema.js';
import { instanceFamily } from '../config/family.js';
import { groupOfInstance } from '../config/sync-groups.js';

export interface ReloadReport {
  unchanged: string[];
  /** Applied in place: priority, interval, preempt, VIPs (by delta), GARP, tracking, peers. */
  updated: string[];
  /** Identity changed (interface, VRID, version, family, auth, source): released with priority 0, started again. */
  restarted: string[];
  removed: string[];
  added: string[];
}

/** What defines an instance on the wire: changing it is a new router, not an update. */
function identity(s: InstanceSettings): unknown {
  return [s.interface, s.vrid, s.version, instanceFamily(s), s.auth ?? null, s.sourceAddress ?? null];
}

export function planReload(prev: Config, next: Config): ReloadReport {
  const r: ReloadReport = { unchanged: [], updated: [], restarted: [], removed: [], added: [] };
  for (const name of Object.keys(prev.instances)) if (!(name in next.instances)) r.removed.push(name);
  for (const [name, s] of Object.entries(next.instances)) {
    const old = prev.instances[name];
    if (!old) r.added.push(name);
    // A changed sync group is a live change: the engine learns its group through reconfigure.
    else if (isDeepStrictEqual(old, s) && groupOfInstance(prev, name) === groupOfInstance(next, name)) r.unchanged.push(name);
    else if (!isDeepStrictEqual(identity(old), identity(s))) r.restarted.push(name);
    else r.updated.push(name);
  }
  return r;
}
