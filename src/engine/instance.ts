// The VRRP instance state machine (RFC 5798 §6.4, RFC 3768 §6.4): step() is the only writer of state.
import { authDataFor, type Advert } from '../protocol/advert.js';
import { canonicalAddress, compareAddresses } from '../protocol/addr.js';
import type { DropReason } from '../protocol/drop.js';
import { csToMs, earliest, masterDownIntervalMs, skewTimeMs } from './timers.js';
import { syncFaultSource } from './sync-group.js';
import { onAdvertTick, onVipsLost, onVipsPresent } from './vip-heal.js';
import type {
  Action, AnnounceCause, EngineEvent, InstanceConfig, InstanceState, TransitionReason, VrrpState,
} from './types.js';

/** Bound on timer rounds handled in one tick, so a confused clock can never spin. */
const MAX_TICK_ROUNDS = 64;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The working copy one step() call builds; nothing outside step() ever sees it mutable.
 * Actions come out in the order the shell must run them: `out` holds the wire work (adverts first
 * where they are due, VIP requests, GARP/NA bursts), `late` the bookkeeping that follows it
 * (transition record, hooks, notify scripts, log-only facts).
 */
interface Draft {
  s: Mutable<InstanceState>;
  cfg: InstanceConfig;
  now: number;
  out: Action[];
  late: Action[];
}

export interface StepResult {
  state: InstanceState;
  actions: Action[];
}

export function effectivePriority(cfg: InstanceConfig, trackWeight: number): number {
  if (cfg.priority === 255) return 255; // the owner's priority is not adjusted by tracking
  return Math.min(254, Math.max(1, cfg.priority + trackWeight));
}

export function initialState(cfg: InstanceConfig, now: number): InstanceState {
  return {
    state: 'INIT',
    since: now,
    reason: null,
    reasonDetail: '',
    effectivePriority: effectivePriority(cfg, 0),
    trackWeight: 0,
    faults: [],
    masterAdverIntervalCs: cfg.advertIntervalCs,
    master: null,
    masterPriority: null,
    lastAdvertAt: null,
    adverTimer: null,
    masterDownTimer: null,
    garpDelayTimer: null,
    garpRefreshTimer: null,
    holdUntil: null,
    downCause: 'no-master',
    wantsMaster: false,
    held: false,
    yieldStartedAt: null,
    lowerMasterSince: null,
    lastHealAnnounceAt: null,
    vipsHeld: false,
    awaitingServices: false,
    vipsMissing: [],
    lastVipRestoreAt: null,
    counters: {
      advertsSent: 0, advertsReceived: 0, priorityZeroSent: 0, priorityZeroReceived: 0,
      becameMaster: 0, releasedMaster: 0, addressMismatches: 0, vipRestores: 0, vipRemovals: 0, drops: {},
    },
  };
}

/** The earliest armed timer, or null. The shell arms one precise timer for it and sends 'tick'. */
export function nextDeadline(s: InstanceState): number | null {
  return earliest(s.adverTimer, s.masterDownTimer, s.garpDelayTimer, s.garpRefreshTimer, s.holdUntil);
}

// ---- helpers over the draft (called only from step) ----

function masterDownInterval(d: Draft): number {
  return masterDownIntervalMs(d.cfg.version, d.s.effectivePriority, d.s.masterAdverIntervalCs);
}

function transition(d: Draft, to: VrrpState, reason: TransitionReason, detail: string): void {
  d.late.push({ type: 'transition', from: d.s.state, to, reason, detail });
  d.s.state = to;
  d.s.since = d.now;
  d.s.reason = reason;
  d.s.reasonDetail = detail;
}

function sendAdvert(d: Draft, priority: number): void {
  d.out.push({ type: 'sendAdvert', priority, intervalCs: d.cfg.advertIntervalCs });
  d.s.counters.advertsSent++;
  if (priority === 0) d.s.counters.priorityZeroSent++;
}

function announce(d: Draft, count: number, cause: AnnounceCause): void {
  if (count > 0) d.out.push({ type: 'announce', count, cause });
}

function drop(d: Draft, reason: DropReason, detail: string): void {
  // A new object: the previous state shares the old one (step copies only what it writes).
  d.s.counters.drops = { ...d.s.counters.drops, [reason]: (d.s.counters.drops[reason] ?? 0) + 1 };
  d.out.push({ type: 'drop', reason, detail });
}

function clearMasterTimers(d: Draft): void {
  d.s.adverTimer = null;
  d.s.garpDelayTimer = null;
  d.s.garpRefreshTimer = null;
}

/** Leaving MASTER for any state: the VIPs go. The caller sends the priority-0 advert if due. */
function releaseMaster(d: Draft): void {
  d.out.push({ type: 'removeVips' });
  d.s.vipsHeld = false;
  d.s.awaitingServices = false;
  d.s.vipsMissing = [];
  d.s.counters.releasedMaster++;
  clearMasterTimers(d);
}

/** RFC 5798 §6.4.1 "broadcast a gratuitous ARP request": the VIPs go up, announced, GARP timers start. */
function takeVips(d: Draft): void {
  const { cfg, now } = d;
  d.out.push({ type: 'addVips' });
  d.s.vipsHeld = true;
  d.s.awaitingServices = false;
  announce(d, cfg.garp.masterRepeat, 'become-master');
  d.s.garpDelayTimer = cfg.garp.masterDelayMs > 0 ? now + cfg.garp.masterDelayMs : null;
  d.s.garpRefreshTimer = cfg.garp.masterRefreshMs > 0 ? now + cfg.garp.masterRefreshMs : null;
}

// RFC 5798 §6.4.1 / §6.4.2 "transition to Master": send an ADVERTISEMENT, broadcast gratuitous ARP,
// start the Adver_Timer.
function becomeMaster(d: Draft, reason: TransitionReason, detail: string): void {
  const { cfg, now } = d;
  transition(d, 'MASTER', reason, detail);
  d.s.masterAdverIntervalCs = cfg.advertIntervalCs;
  d.s.master = cfg.primaryAddress;
  d.s.masterPriority = d.s.effectivePriority;
  d.s.masterDownTimer = null;
  d.s.lowerMasterSince = null;
  // The advert first: it stops a peer's takeover sooner than anything else we can do.
  sendAdvert(d, d.s.effectivePriority);
  d.s.adverTimer = now + csToMs(cfg.advertIntervalCs);
  // With services to program first, the VIPs wait for servicesReady (the 'master' hook starts it).
  if (cfg.awaitServices) {
    d.s.awaitingServices = true;
    d.s.garpDelayTimer = null;
    d.s.garpRefreshTimer = null;
  } else {
    takeVips(d);
  }
  d.s.counters.becameMaster++;
  if (d.s.yieldStartedAt !== null) {
    d.out.push({ type: 'yieldOutcome', outcome: 'reclaimed', afterMs: now - d.s.yieldStartedAt });
    d.s.yieldStartedAt = null;
    d.s.held = false; // the hold protected a new master; there is none, so it has no purpose left
    d.s.holdUntil = null;
  }
  d.late.push({ type: 'hook', hook: 'master' });
  d.late.push({ type: 'notify', state: 'MASTER', priority: d.s.effectivePriority });
}

function becomeBackup(
  d: Draft, reason: TransitionReason, detail: string, downCause: InstanceState['downCause'],
): void {
  if (d.s.state === 'MASTER') releaseMaster(d);
  transition(d, 'BACKUP', reason, detail);
  d.s.masterDownTimer = d.now + masterDownInterval(d);
  d.s.downCause = downCause;
  d.s.lowerMasterSince = null;
  d.late.push({ type: 'hook', hook: 'backup' });
  d.late.push({ type: 'notify', state: 'BACKUP', priority: d.s.effectivePriority });
}

function enterFault(d: Draft, detail: string): void {
  if (d.s.state === 'MASTER') {
    sendAdvert(d, 0); // let a backup take over in Skew_Time instead of Master_Down_Interval
    releaseMaster(d);
  }
  transition(d, 'FAULT', 'fault', detail);
  d.s.masterDownTimer = null;
  d.s.master = null;
  d.s.masterPriority = null;
  d.s.yieldStartedAt = null;
  d.s.lowerMasterSince = null;
  d.late.push({ type: 'hook', hook: 'fault' });
  d.late.push({ type: 'notify', state: 'FAULT', priority: d.s.effectivePriority });
}

/** Startup, or leaving FAULT: RFC 5798 §6.4.1 decides between MASTER and BACKUP. */
function start(d: Draft, backupReason: TransitionReason, detail: string): void {
  const { cfg } = d;
  d.s.masterAdverIntervalCs = cfg.advertIntervalCs;
  if (d.s.faults.length > 0) {
    transition(d, 'FAULT', 'fault', `faults: ${d.s.faults.join(', ')}`);
    d.late.push({ type: 'hook', hook: 'fault' });
    d.late.push({ type: 'notify', state: 'FAULT', priority: d.s.effectivePriority });
  } else if (cfg.priority === 255) {
    becomeMaster(d, 'owner', `${detail}; priority 255 owns the addresses`);
  } else {
    d.s.master = null;
    d.s.masterPriority = null;
    becomeBackup(d, backupReason, detail, 'no-master');
    if (cfg.initialState === 'MASTER' && backupReason === 'startup') {
      // keepalived's "state MASTER": wait one interval (plus skew), not three, for a better master;
      // never claim the VIPs unheard, so a restart cannot steal them from a running master.
      d.s.masterDownTimer = d.now + csToMs(cfg.advertIntervalCs) + skewTimeMs(cfg.version, d.s.effectivePriority, cfg.advertIntervalCs);
      d.s.downCause = 'initial-state';
    }
  }
}

function shutdown(d: Draft): void {
  const wasMaster = d.s.state === 'MASTER';
  if (wasMaster) sendAdvert(d, 0); // RFC 5798 §6.4.3: priority 0 on shutdown
  if (wasMaster) releaseMaster(d);
  transition(d, 'INIT', 'shutdown', wasMaster ? 'sent priority 0' : '');
  d.s.masterDownTimer = null;
  d.s.holdUntil = null;
  d.s.held = false;
  d.s.yieldStartedAt = null;
  d.s.master = null;
  d.s.masterPriority = null;
  d.late.push({ type: 'hook', hook: 'stop' });
  d.late.push({ type: 'notify', state: 'STOP', priority: d.s.effectivePriority });
}

function sameAddressList(theirs: readonly string[], ours: readonly string[]): boolean {
  if (theirs.length !== ours.length) return false;
  const set = new Set(ours.map((a) => canonicalAddress(a) ?? a));
  return theirs.every((a) => set.has(a));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Instance-level receive checks (RFC 3768 §7.1, RFC 5798 §7.1); null when the advert passes. */
function rejectReason(d: Draft, adv: Advert, src: string, ttl: number, unicast: boolean, local: string): [DropReason, string] | null {
  const { cfg } = d;
  if (d.s.state === 'INIT') return ['not-running', 'instance not started'];
  // RFC 5798 §7.1 TTL 255; like keepalived, only for multicast (IPv6 unicast uses the default hop limit).
  if (!unicast && ttl !== 255) return ['bad-ttl', `TTL ${ttl}`];
  if (adv.family !== cfg.family) return ['family-mismatch', `IPv${adv.family} advert, IPv${cfg.family} instance`];
  if (adv.version !== cfg.version) return ['version-mismatch', `VRRPv${adv.version} advert, VRRPv${cfg.version} instance`];
  if (adv.vrid !== cfg.vrid) return ['vrid-not-configured', `VRID ${adv.vrid}`];
  if (canonicalAddress(src) === canonicalAddress(local)) return ['own-advert', `from ${src}`];
  if (cfg.version === 2) {
    if (adv.authType !== cfg.authType) return ['auth-type-mismatch', `auth type ${adv.authType}, ours ${cfg.authType}`];
    if (cfg.authType === 1 && !bytesEqual(adv.authData ?? new Uint8Array(0), authDataFor(cfg.authPassword))) {
      return ['auth-mismatch', 'simple password differs'];
    }
    // RFC 3768 §7.1: the Adver Interval must equal ours.
    if (adv.intervalCs !== cfg.advertIntervalCs) {
      return ['interval-mismatch', `interval ${adv.intervalCs / 100} s, ours ${cfg.advertIntervalCs / 100} s`];
    }
  }
  if (!sameAddressList(adv.addresses, cfg.advertAddresses)) {
    d.s.counters.addressMismatches++;
    d.out.push({ type: 'addressMismatch', src, theirs: adv.addresses, ours: cfg.advertAddresses });
    if (cfg.strictAddressCheck) return ['address-mismatch', `from ${src}`];
  }
  return null;
}

/**
 * MASTER hears a better master (RFC 5798 §6.4.3): step down. Before that, unless configured off, one
 * advert at our own priority (keepalived's higher_prio_send_advert). After a split brain the better
 * master's advert may reach us first; as BACKUP we then stay silent, so it never learns that clients
 * were pointed at us and never re-announces: they stay blackholed until a GARP refresh. Our advert
 * reaches it as a lower-priority advert, which it answers with a GARP burst (see onAdvert, and
 * keepalived's garp_lower_prio_repeat), whichever advert crossed the healed link first.
 */
function yieldToBetterMaster(d: Draft, adv: Advert, src: string, greaterAddress: boolean): void {
  const { cfg, s } = d;
  const eff = s.effectivePriority;
  const told = cfg.higherPrioritySendAdvert !== false;
  if (told) sendAdvert(d, eff);
  if (cfg.version === 3) s.masterAdverIntervalCs = adv.intervalCs;
  s.master = src;
  s.masterPriority = adv.priority;
  becomeBackup(d, greaterAddress ? 'equal-priority-greater-address' : 'higher-priority',
    `${src} priority ${adv.priority} (ours ${eff})${told ? '; told it with one advert at ours' : ''}`, 'master-silent');
}

function onAdvert(d: Draft, adv: Advert, src: string, ttl: number, unicast: boolean, local: string): void {
  const rejected = rejectReason(d, adv, src, ttl, unicast, local);
  if (rejected) return drop(d, rejected[0], rejected[1]);
  const { cfg, now, s } = d;
  s.counters.advertsReceived++;
  s.lastAdvertAt = now;
  const prio = adv.priority;
  if (prio === 0) s.counters.priorityZeroReceived++;
  const eff = s.effectivePriority;

  if (s.state === 'FAULT') {
    s.master = prio > 0 ? src : null; // informational only; FAULT ignores the election
    s.masterPriority = prio > 0 ? prio : null;
    return;
  }

  if (s.state === 'BACKUP') {
    if (prio === 0) {
      // RFC 5798 §6.4.2: the master resigned; take over after Skew_Time.
      s.masterDownTimer = now + skewTimeMs(cfg.version, eff, s.masterAdverIntervalCs);
      s.downCause = 'master-resigned';
      s.master = null;
      s.masterPriority = null;
      return;
    }
    let accept = !cfg.preempt || s.held || prio >= eff;
    if (!accept && cfg.preemptDelayMs > 0) {
      // keepalived's preempt_delay: tolerate a lower-priority master this long before preempting.
      if (s.lowerMasterSince === null) s.lowerMasterSince = now;
      if (now < s.lowerMasterSince + cfg.preemptDelayMs) accept = true;
    }
    s.master = src;
    s.masterPriority = prio;
    if (accept) {
      if (cfg.version === 3) s.masterAdverIntervalCs = adv.intervalCs; // RFC 5798 §6.4.2: learn it
      s.masterDownTimer = now + masterDownInterval(d);
      s.downCause = 'master-silent';
      if (prio >= eff) s.lowerMasterSince = null;
      s.wantsMaster = false; // a master we accept: a sync-group member no longer wants MASTER
      if (s.yieldStartedAt !== null) {
        d.out.push({ type: 'yieldOutcome', outcome: 'taken-over', by: src, afterMs: now - s.yieldStartedAt });
        s.yieldStartedAt = null;
      }
    } else {
      // RFC 5798 §6.4.2: preempt — discard; the Master_Down_Timer runs out and we take over.
      s.downCause = 'preempt';
    }
    return;
  }

  // MASTER, RFC 5798 §6.4.3.
  if (prio === 0) {
    sendAdvert(d, eff);
    s.adverTimer = now + csToMs(cfg.advertIntervalCs);
    return;
  }
  // RFC 5798 §6.4.3 tie-break; over an extra path, between the two addresses on that link.
  const greaterAddress = prio === eff && compareAddresses(src, local) > 0;
  if (prio > eff || greaterAddress) {
    yieldToBetterMaster(d, adv, src, greaterAddress);
    return;
  }
  // A lower-priority master: a healed split brain. RFC 5798 discards; we answer with an advert at
  // once so it steps down now, and re-announce the VIPs so clients come back to us (rate-limited).
  sendAdvert(d, eff);
  s.adverTimer = now + csToMs(cfg.advertIntervalCs);
  const holdoff = Math.max(1000, 3 * csToMs(cfg.advertIntervalCs));
  if (s.vipsHeld && (s.lastHealAnnounceAt === null || now - s.lastHealAnnounceAt >= holdoff)) {
    announce(d, cfg.garp.lowerPriorityRepeat, 'lower-priority');
    s.lastHealAnnounceAt = now;
  }
}

function onTick(d: Draft): void {
  const { s, cfg, now } = d;
  for (let round = 0; round < MAX_TICK_ROUNDS; round++) {
    if (s.holdUntil !== null && s.holdUntil <= now) {
      s.holdUntil = null;
      s.held = false;
      d.late.push({ type: 'holdEnded', cause: 'expired' });
      continue;
    }
    if (s.state === 'MASTER') {
      if (s.adverTimer !== null && s.adverTimer <= now) {
        sendAdvert(d, s.effectivePriority);
        // No drift: the next advert is one interval after the previous deadline, not after now,
        // unless we fell a whole interval behind.
        const interval = csToMs(cfg.advertIntervalCs);
        const next = s.adverTimer + interval;
        s.adverTimer = next > now ? next : now + interval;
        onAdvertTick(d);
        continue;
      }
      if (s.garpDelayTimer !== null && s.garpDelayTimer <= now) {
        s.garpDelayTimer = null;
        announce(d, cfg.garp.masterRepeat, 'master-delay');
        continue;
      }
      if (s.garpRefreshTimer !== null && s.garpRefreshTimer <= now) {
        announce(d, cfg.garp.refreshRepeat, 'refresh');
        const next = s.garpRefreshTimer + cfg.garp.masterRefreshMs;
        s.garpRefreshTimer = next > now ? next : now + cfg.garp.masterRefreshMs;
        continue;
      }
    }
    if (s.state === 'BACKUP' && s.masterDownTimer !== null && s.masterDownTimer <= now) {
      if (cfg.syncGroup !== undefined) {
        wantMaster(d);
        continue;
      }
      becomeMaster(d, s.downCause, downDetail(s));
      continue;
    }
    break;
  }
}

function downDetail(s: InstanceState): string {
  return {
    'no-master': 'no advert within Master_Down_Interval of starting',
    'master-silent': `no advert from ${s.master ?? 'the master'} within Master_Down_Interval`,
    'master-resigned': 'master sent priority 0; Skew_Time elapsed',
    'preempt': `preempting lower-priority master ${s.master ?? ''}`.trim(),
    'yield-reclaim': 'yielded, but no other router took over',
    'initial-state': 'configured initial state MASTER; no better master within one interval',
  }[s.downCause];
}

// ---- sync groups (keepalived vrrp_sync_group; the coordinator is engine/sync-group.ts) ----

/**
 * The Master_Down_Timer fired on a sync-group member: it wants MASTER but stays BACKUP until every
 * member can (keepalived vrrp_sync_can_goto_master). The timer is re-armed, as keepalived does, so a
 * member that waits long keeps a live deadline; a master's advert we accept cancels the want.
 */
function wantMaster(d: Draft): void {
  d.s.masterDownTimer = d.now + masterDownInterval(d);
  if (d.s.wantsMaster) return;
  d.s.wantsMaster = true;
  d.out.push({ type: 'wantMaster', cause: d.s.downCause });
}

/** Every member of the group can be MASTER: a waiting member becomes MASTER for its own reason. */
function onSyncMaster(d: Draft): void {
  if (d.s.state !== 'BACKUP' || !d.s.wantsMaster) return;
  d.s.wantsMaster = false;
  becomeMaster(d, d.s.downCause, `${downDetail(d.s)}; sync group ${d.cfg.syncGroup ?? ''} ready`);
}

/**
 * Another member left MASTER: follow it to BACKUP (keepalived vrrp_sync_backup). Unlike keepalived we
 * send priority 0 first, as on a yield: the peer's member takes over in Skew_Time, not
 * Master_Down_Interval, which shortens the time the group's VIPs are split between the routers.
 */
function onSyncBackup(d: Draft, detail: string): void {
  if (d.s.state !== 'MASTER') return;
  sendAdvert(d, 0);
  d.s.master = null;
  d.s.masterPriority = null;
  becomeBackup(d, 'sync-backup', `sync group ${d.cfg.syncGroup ?? ''}: ${detail}`, 'master-silent');
}

function setFault(d: Draft, source: string, active: boolean): void {
  const s = d.s;
  const had = s.faults.length > 0;
  const set = new Set(s.faults);
  if (active) set.add(source);
  else set.delete(source);
  s.faults = [...set].sort();
  const has = s.faults.length > 0;
  if (!had && has && (s.state === 'BACKUP' || s.state === 'MASTER')) {
    enterFault(d, `${source} down`);
  } else if (had && !has && s.state === 'FAULT') {
    start(d, 'fault-cleared', `${source} up`);
  }
}

function onYield(d: Draft, holdMs: number | null): void {
  const { s, now } = d;
  if (s.state !== 'MASTER') {
    d.out.push({ type: 'yieldRefused', detail: `not MASTER (${s.state})` });
    return;
  }
  sendAdvert(d, 0); // RFC 5798 §6.4.3 shutdown semantics: a backup takes over in Skew_Time
  releaseMaster(d);
  transition(d, 'BACKUP', 'yield', holdMs === null ? 'held until resume' : `held for ${holdMs} ms`);
  s.held = true;
  s.holdUntil = holdMs === null ? null : now + holdMs;
  s.yieldStartedAt = now;
  s.master = null;
  s.masterPriority = null;
  // If nobody takes over within Master_Down_Interval we reclaim: a yield never orphans the VIPs.
  s.masterDownTimer = now + masterDownInterval(d);
  s.downCause = 'yield-reclaim';
  d.late.push({ type: 'hook', hook: 'backup' });
  d.late.push({ type: 'notify', state: 'BACKUP', priority: s.effectivePriority });
}

/** A reload changed this instance's settings in place: keep state and rhythm, apply what changed. */
function onReconfigure(d: Draft): void {
  const { s, cfg, now } = d;
  const eff = effectivePriority(cfg, s.trackWeight);
  if (eff !== s.effectivePriority) {
    d.out.push({ type: 'priorityChanged', from: s.effectivePriority, to: eff });
    s.effectivePriority = eff;
    if (s.state === 'MASTER') {
      s.masterPriority = eff;
      sendAdvert(d, eff); // backups learn the new priority now, not at the next interval
      s.adverTimer = now + csToMs(cfg.advertIntervalCs);
    }
  }
  if (s.state === 'MASTER') {
    s.masterAdverIntervalCs = cfg.advertIntervalCs;
    if (cfg.garp.masterRefreshMs <= 0) s.garpRefreshTimer = null;
    else if (s.garpRefreshTimer === null) s.garpRefreshTimer = now + cfg.garp.masterRefreshMs;
  }
  if (!cfg.preempt || cfg.preemptDelayMs === 0) s.lowerMasterSince = null;
}

/**
 * The only writer of instance state: given the previous state, the config, the time (ms, any
 * monotonic origin, fractional) and one event, returns the next state and the actions to execute
 * in order.
 */
export function step(prev: InstanceState, cfg: InstanceConfig, now: number, ev: EngineEvent): StepResult {
  const d: Draft = {
    // faults and counters.drops are replaced, never written in place: the new state may share them.
    s: { ...prev, counters: { ...prev.counters } },
    cfg,
    now,
    out: [],
    late: [],
  };
  switch (ev.type) {
    case 'startup':
      if (d.s.state === 'INIT') start(d, 'startup', 'started');
      break;
    case 'shutdown':
      if (d.s.state !== 'INIT') shutdown(d);
      break;
    case 'advert':
      onAdvert(d, ev.advert, ev.src, ev.ttl, ev.unicast ?? false, ev.local ?? d.cfg.primaryAddress);
      break;
    case 'tick':
      onTick(d);
      break;
    case 'interface':
      setFault(d, `interface ${ev.ifname}`, !ev.up);
      break;
    case 'fault':
      setFault(d, ev.source, ev.active);
      break;
    case 'trackWeight': {
      d.s.trackWeight = ev.weight;
      const eff = effectivePriority(cfg, ev.weight);
      if (eff !== d.s.effectivePriority) {
        d.out.push({ type: 'priorityChanged', from: d.s.effectivePriority, to: eff });
        d.s.effectivePriority = eff;
        if (d.s.state === 'MASTER') {
          d.s.masterPriority = eff;
          sendAdvert(d, eff); // tell the backups now, not at the next interval
          d.s.adverTimer = now + csToMs(cfg.advertIntervalCs);
        }
      }
      break;
    }
    case 'yield':
      onYield(d, ev.holdMs);
      break;
    case 'reconfigure':
      onReconfigure(d);
      break;
    case 'servicesReady':
      if (d.s.state === 'MASTER' && d.s.awaitingServices) takeVips(d);
      break;
    case 'syncMaster':
      onSyncMaster(d);
      break;
    case 'syncBackup':
      onSyncBackup(d, ev.detail ?? 'another member left MASTER');
      break;
    case 'syncFault':
      // keepalived vrrp_sync_fault: the other members go to FAULT too (priority 0 if MASTER).
      if (cfg.syncGroup !== undefined) setFault(d, syncFaultSource(cfg.syncGroup), ev.active);
      break;
    case 'vipsLost':
      onVipsLost(d, ev.addresses, ev.seen);
      break;
    case 'vipsPresent':
      onVipsPresent(d, ev.addresses, ev.seen);
      break;
    case 'resume':
      if (d.s.held) {
        d.s.held = false;
        d.s.holdUntil = null;
        d.late.push({ type: 'holdEnded', cause: 'resume' });
      }
      break;
  }
  if (d.s.state !== 'BACKUP') d.s.wantsMaster = false; // only a BACKUP waits for its group
  return { state: d.s, actions: d.late.length ? [...d.out, ...d.late] : d.out };
}

/** Convenience holder: one instance, its config, its state. Assigning the step result is its only write. */
export class VrrpInstance {
  private current: InstanceState;
  private cfg: InstanceConfig;

  constructor(config: InstanceConfig, now: number) {
    this.cfg = config;
    this.current = initialState(config, now);
  }

  get config(): InstanceConfig {
    return this.cfg;
  }

  /** Reload: the new settings take effect through step(), like any other input. */
  reconfigure(now: number, config: InstanceConfig): Action[] {
    this.cfg = config;
    return this.step(now, { type: 'reconfigure' });
  }

  get state(): InstanceState {
    return this.current;
  }

  step(now: number, ev: EngineEvent): Action[] {
    const r = step(this.current, this.cfg, now, ev);
    this.current = r.state;
    return r.actions;
  }

  nextDeadline(): number | null {
    return nextDeadline(this.current);
  }

  /**
   * Adopt a result that step() computed ahead of time from exactly this state (the shell prepares
   * the next timer's outcome so its advert can leave the instant the deadline comes). Refused when
   * anything happened since: then the caller steps normally.
   */
  commit(from: InstanceState, result: StepResult): boolean {
    if (this.current !== from) return false;
    this.current = result.state;
    return true;
  }
}
