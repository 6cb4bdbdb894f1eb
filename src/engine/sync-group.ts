// Sync group coordinator (keepalived vrrp_sync_group), pure: member states in, events for members and group actions out.
import type { EngineEvent, InstanceState } from './types.js';

/** The fault source a member holds while another member of its group is in FAULT. */
export function syncFaultSource(group: string): string {
  return `sync group ${group}`;
}

/** A group's state: MASTER when every member is, BACKUP when every running member is, FAULT when any is. */
export type GroupState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';

export interface SyncGroupSpec {
  name: string;
  /** Member instance names, as in the config. */
  members: readonly string[];
}

export type SyncEvent = Extract<EngineEvent, { type: 'syncMaster' | 'syncBackup' | 'syncFault' }>;

/** An event the shell feeds to one member (then it calls reconcile again). */
export interface SyncDirective {
  member: string;
  event: SyncEvent;
}

export type GroupAction =
  | { type: 'groupTransition'; group: string; from: GroupState; to: GroupState; detail: string }
  /** Group notify scripts: notify.master/backup/fault/stop, and notify.any with GROUP name state 0. */
  | { type: 'groupNotify'; group: string; state: 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP' };

export interface ReconcileResult {
  state: GroupState;
  /** Events for members; empty when the group is settled. */
  events: SyncDirective[];
  actions: GroupAction[];
}

/** A member's faults other than the one its group put on it. */
function ownFaults(group: string, s: InstanceState): string[] {
  const mine = syncFaultSource(group);
  return s.faults.filter((f) => f !== mine);
}

function derive(spec: SyncGroupSpec, states: ReadonlyMap<string, InstanceState>, prev: GroupState): GroupState {
  const all = spec.members.map((m) => states.get(m)?.state ?? 'INIT');
  const running = all.filter((x) => x !== 'INIT');
  if (running.length === 0) return 'INIT';
  if (running.includes('FAULT')) return 'FAULT';
  if (all.every((x) => x === 'MASTER')) return 'MASTER';
  if (running.every((x) => x === 'BACKUP')) return 'BACKUP';
  return prev; // moving between states: the group keeps its state until its members agree
}

/**
 * One look at the group (level-triggered, so it converges whatever order events came in):
 * 1. FAULT (keepalived vrrp_sync_fault): while any member has a fault of its own, every other member
 *    holds the group's fault source (FAULT, priority 0 if it was MASTER); when none has, it is released.
 * 2. BACKUP (vrrp_sync_backup): a member is BACKUP without wanting MASTER while others are MASTER:
 *    those follow it to BACKUP.
 * 3. MASTER (vrrp_sync_can_goto_master / vrrp_sync_master): every member is MASTER or wants to be,
 *    and all have started: the waiting ones become MASTER together. Otherwise they keep waiting.
 * The shell feeds the events to the members and calls reconcile again until no events come back.
 */
export function reconcile(spec: SyncGroupSpec, prev: GroupState, states: ReadonlyMap<string, InstanceState>): ReconcileResult {
  const events: SyncDirective[] = [];
  const src = syncFaultSource(spec.name);
  const faulty = spec.members.filter((m) => {
    const s = states.get(m);
    return s !== undefined && ownFaults(spec.name, s).length > 0;
  });
  for (const m of spec.members) {
    const s = states.get(m);
    if (!s) continue;
    const others = faulty.filter((x) => x !== m);
    const held = s.faults.includes(src);
    if (others.length > 0 && !held) events.push({ member: m, event: { type: 'syncFault', active: true, detail: `${others.join(', ')} in FAULT` } });
    if (others.length === 0 && held) events.push({ member: m, event: { type: 'syncFault', active: false, detail: 'no member in FAULT' } });
  }
  if (events.length === 0 && faulty.length === 0) {
    const view = spec.members.map((m) => ({ m, s: states.get(m) }));
    const masters = view.filter((x) => x.s?.state === 'MASTER').map((x) => x.m);
    const backups = view.filter((x) => x.s?.state === 'BACKUP');
    const content = backups.filter((x) => !x.s!.wantsMaster).map((x) => x.m);
    const started = view.every((x) => x.s !== undefined && x.s.state !== 'INIT');
    if (masters.length > 0 && content.length > 0) {
      for (const m of masters) events.push({ member: m, event: { type: 'syncBackup', detail: `${content.join(', ')} is BACKUP` } });
    } else if (started && backups.length > 0 && content.length === 0) {
      for (const x of backups) events.push({ member: x.m, event: { type: 'syncMaster' } });
    }
  }
  const state = derive(spec, states, prev);
  const actions: GroupAction[] = [];
  if (state !== prev) {
    const detail = spec.members.map((m) => `${m} ${states.get(m)?.state ?? 'INIT'}`).join(', ');
    actions.push({ type: 'groupTransition', group: spec.name, from: prev, to: state, detail });
    if (state === 'INIT') actions.push({ type: 'groupNotify', group: spec.name, state: 'STOP' });
    else actions.push({ type: 'groupNotify', group: spec.name, state });
  }
  return { state, events, actions };
}

/** Bound on reconcile rounds per input, so a confused member can never spin the shell. */
export const MAX_SYNC_ROUNDS = 8;

/**
 * Holder of one group's state around reconcile(). settle() runs the rounds: deliver feeds one event to
 * one member synchronously (the shell executes that member's actions itself); states reads them after.
 */
export class SyncGroupCoordinator {
  state: GroupState = 'INIT';

  constructor(readonly spec: SyncGroupSpec) {}

  settle(states: () => ReadonlyMap<string, InstanceState>, deliver: (d: SyncDirective) => void): GroupAction[] {
    const out: GroupAction[] = [];
    for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
      const r = reconcile(this.spec, this.state, states());
      this.state = r.state;
      out.push(...r.actions);
      if (r.events.length === 0) break;
      for (const d of r.events) deliver(d);
    }
    return out;
  }
}
