// Sync groups in the shell: one pure coordinator per group, settled after each member's step; group notify and status.
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { EngineEvent, InstanceState } from '../engine/types.js';
import { SyncGroupCoordinator, type GroupAction, type GroupState } from '../engine/sync-group.js';
import { Notifier } from './notify.js';
import type { Runner } from './runner.js';

interface Group {
  coord: SyncGroupCoordinator;
  notifier: Notifier;
  notify: Config['syncGroups'][string]['notify'];
}

/** A sync group in `vrrpd status --json`. */
export interface SyncGroupStatus {
  name: string;
  state: GroupState;
  members: { name: string; state: string; wantsMaster: boolean; faults: string[] }[];
}

export class SyncGroups {
  private groups = new Map<string, Group>();
  private settling = false;

  constructor(private readonly log: Logger) {}

  /** Build the coordinators for a config; a group whose members are unchanged keeps its state (reload). */
  configure(cfg: Config): void {
    const next = new Map<string, Group>();
    for (const [name, sg] of Object.entries(cfg.syncGroups)) {
      const old = this.groups.get(name);
      const same = old && old.coord.spec.members.join('\0') === sg.instances.join('\0');
      const coord = same ? old.coord : new SyncGroupCoordinator({ name, members: [...sg.instances] });
      next.set(name, { coord, notifier: old?.notifier ?? new Notifier(name, this.log, 'GROUP'), notify: sg.notify });
    }
    this.groups = next;
  }

  /**
   * After a member's step: bring its group in line (members move together). Events the coordinator
   * hands out are fed to the members through `feed` (their actions run as usual); a feed made while
   * settling does not settle again: settle() loops itself, bounded.
   */
  settle(group: string | undefined, runners: readonly Runner[], feed: (r: Runner, ev: EngineEvent) => void): void {
    if (group === undefined || this.settling) return;
    const g = this.groups.get(group);
    if (!g) return;
    this.settling = true;
    try {
      const members = (): ReadonlyMap<string, InstanceState> => new Map(runners
        .filter((r) => g.coord.spec.members.includes(r.name)).map((r) => [r.name, r.inst.state]));
      const actions = g.coord.settle(members, (d) => {
        const r = runners.find((x) => x.name === d.member);
        if (r) feed(r, d.event);
      });
      for (const a of actions) this.run(g, a);
    } finally {
      this.settling = false;
    }
  }

  /** Settle every group (after startup, a reload, or a shutdown of all members). */
  settleAll(runners: readonly Runner[], feed: (r: Runner, ev: EngineEvent) => void): void {
    for (const name of this.groups.keys()) this.settle(name, runners, feed);
  }

  private run(g: Group, a: GroupAction): void {
    if (a.type === 'groupTransition') {
      this.log.info({ group: a.group, from: a.from, to: a.to, detail: a.detail }, `sync group ${a.group}: ${a.from} -> ${a.to}`);
    } else {
      g.notifier.notify(g.notify, a.state, 0);
    }
  }

  status(runners: readonly Runner[]): SyncGroupStatus[] {
    return [...this.groups.entries()].map(([name, g]) => ({
      name,
      state: g.coord.state,
      members: g.coord.spec.members.map((m) => {
        const st = runners.find((r) => r.name === m)?.inst.state;
        return { name: m, state: st?.state ?? 'INIT', wantsMaster: st?.wantsMaster ?? false, faults: [...(st?.faults ?? [])] };
      }),
    }));
  }
}
