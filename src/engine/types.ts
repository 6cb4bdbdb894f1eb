// Engine vocabulary: instance config, input events, output actions, states and transition reasons.
import type { Advert, Version } from '../protocol/advert.js';
import type { Family } from '../protocol/addr.js';
import type { DropReason } from '../protocol/drop.js';

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT';

/** Gratuitous ARP / unsolicited NA schedule (keepalived's garp_master_* knobs). */
export interface GarpSchedule {
  /** Second burst this long after becoming MASTER; 0 = none (garp_master_delay, default 5 s). */
  masterDelayMs: number;
  /** Packets per VIP in each burst (garp_master_repeat, default 5). */
  masterRepeat: number;
  /** Periodic re-announce while MASTER; 0 = off (garp_master_refresh, default off). */
  masterRefreshMs: number;
  /** Packets per VIP in a refresh burst (garp_master_refresh_repeat, default 1). */
  refreshRepeat: number;
  /** Packets per VIP when re-announcing at a lower-priority advert (split-brain heal). */
  lowerPriorityRepeat: number;
}

/** One VRRP instance as the engine needs it; the config layer validates and fills defaults. */
export interface InstanceConfig {
  name: string;
  vrid: number;
  version: Version;
  family: Family;
  /** Configured priority 1-255; 255 is the address owner. */
  priority: number;
  /** Our Advertisement_Interval in centiseconds (v2: a multiple of 100). */
  advertIntervalCs: number;
  /** RFC 5798 Preempt_Mode; keepalived's nopreempt sets it false. */
  preempt: boolean;
  /** keepalived's preempt_delay: how long a lower-priority master is tolerated before preempting. */
  preemptDelayMs: number;
  /** keepalived's "state": MASTER waits one interval, not three, for a better master at startup. */
  initialState: 'BACKUP' | 'MASTER';
  /** Our primary address on the advert interface (the source of our adverts), for tie-breaks. */
  primaryAddress: string;
  /** Addresses listed in our adverts (excluded VIPs are not), for the consistency check. */
  advertAddresses: readonly string[];
  /** v2 only. */
  authType: 0 | 1;
  authPassword: string;
  /** Drop adverts whose address list differs from ours (keepalived does); otherwise count and accept. */
  strictAddressCheck: boolean;
  garp: GarpSchedule;
  /**
   * A new MASTER waits for `servicesReady` before it adds the VIPs: the shell programs the IPVS
   * services this instance carries first, so no client reaches a VIP without its service.
   */
  awaitServices?: boolean;
  /**
   * The sync group this instance belongs to (keepalived vrrp_sync_group). When set, a fired
   * Master_Down_Timer does not make it MASTER: it answers 'wantMaster' and waits for 'syncMaster'
   * (see engine/sync-group.ts).
   */
  syncGroup?: string;
  /**
   * A MASTER yielding to a better master first sends one advert at its own priority (keepalived's
   * higher_prio_send_advert), so the winner of a healed split brain re-announces the VIPs. Default on.
   */
  higherPrioritySendAdvert?: boolean;
}

export type EngineEvent =
  | { type: 'startup' }
  | { type: 'shutdown' }
  /**
   * A decoded advert for this VRID, with the IP source and TTL/hop limit it arrived with. `local`: our
   * address on the link it came over when that is an extra path (own-advert check and tie-break compare
   * against it); default: our primary address.
   */
  | { type: 'advert'; advert: Advert; src: string; ttl: number; unicast?: boolean; local?: string }
  /** Time has reached nextDeadline(); due timers fire. */
  | { type: 'tick' }
  | { type: 'interface'; ifname: string; up: boolean }
  /** Any other fault source (track script in FAULT mode, IPVS unavailable, ...). */
  | { type: 'fault'; source: string; active: boolean }
  /** Sum of tracking weights; effective priority = priority + weight, kept in 1-254. */
  | { type: 'trackWeight'; weight: number }
  /** Hand MASTER over; hold back for holdMs (null = until resume). */
  | { type: 'yield'; holdMs: number | null }
  | { type: 'resume' }
  /** The services a new MASTER waited for (awaitServices) are in place: the VIPs may go up. */
  | { type: 'servicesReady' }
  /** The config passed with this step replaces the previous one (reload): applied live, no transition. */
  | { type: 'reconfigure' }
  /** Sync group: every member can be MASTER; a member that wants MASTER becomes it now. */
  | { type: 'syncMaster' }
  /** Sync group: another member left MASTER; a MASTER member follows it to BACKUP. */
  | { type: 'syncBackup'; detail?: string }
  /** Sync group: another member is (no longer) in FAULT; this member is held in FAULT meanwhile. */
  | { type: 'syncFault'; active: boolean; detail?: string }
  /**
   * Some of our VIPs vanished from the box while we hold them (deleted by someone else, or dropped
   * by the kernel with their interface). `seen`: what the shell observed, for the log.
   */
  | { type: 'vipsLost'; addresses: string[]; seen: string }
  /** Some of our VIPs appeared on the box while we do not hold them (added by someone else). */
  | { type: 'vipsPresent'; addresses: string[]; seen: string };

export type AnnounceCause = 'become-master' | 'master-delay' | 'refresh' | 'lower-priority' | 'vip-restored';
export type Hook = 'master' | 'backup' | 'fault' | 'stop';

export type TransitionReason =
  | 'startup' //                 INIT → BACKUP
  | 'owner' //                   INIT/FAULT → MASTER at once, priority 255 (RFC 5798 §6.4.1)
  | 'initial-state' //           BACKUP → MASTER one interval after startup, configured state MASTER
  | 'no-master' //               BACKUP → MASTER, no advert seen since entering BACKUP
  | 'master-silent' //           BACKUP → MASTER, adverts stopped for Master_Down_Interval
  | 'master-resigned' //         BACKUP → MASTER, priority-0 advert then Skew_Time
  | 'preempt' //                 BACKUP → MASTER, the master had lower priority
  | 'yield-reclaim' //           BACKUP → MASTER, we yielded but nobody took over
  | 'higher-priority' //         MASTER → BACKUP (RFC 5798 §6.4.3)
  | 'equal-priority-greater-address' // MASTER → BACKUP (RFC 5798 §6.4.3)
  | 'yield' //                   MASTER → BACKUP on request
  | 'sync-backup' //             MASTER → BACKUP, another member of the sync group left MASTER
  | 'fault' //                   → FAULT
  | 'fault-cleared' //           FAULT → BACKUP
  | 'shutdown'; //               → INIT

export type Action =
  | { type: 'transition'; from: VrrpState; to: VrrpState; reason: TransitionReason; detail: string }
  | { type: 'sendAdvert'; priority: number; intervalCs: number }
  | { type: 'addVips' }
  | { type: 'removeVips' }
  /** Gratuitous ARP (IPv4) / unsolicited NA (IPv6) for every VIP, count packets each. */
  | { type: 'announce'; count: number; cause: AnnounceCause }
  /** State hooks: IPVS services and the sync daemon follow these. */
  | { type: 'hook'; hook: Hook }
  /** Notify scripts, keepalived style: INSTANCE name state priority. */
  | { type: 'notify'; state: VrrpState | 'STOP'; priority: number }
  | { type: 'drop'; reason: DropReason; detail: string }
  | { type: 'yieldOutcome'; outcome: 'taken-over'; by: string; afterMs: number }
  | { type: 'yieldOutcome'; outcome: 'reclaimed'; afterMs: number }
  | { type: 'yieldRefused'; detail: string }
  | { type: 'holdEnded'; cause: 'expired' | 'resume' }
  | { type: 'priorityChanged'; from: number; to: number }
  | { type: 'addressMismatch'; src: string; theirs: string[]; ours: readonly string[] }
  /** Sync group member: the Master_Down_Timer fired; MASTER waits for 'syncMaster' (every member ready). */
  | { type: 'wantMaster'; cause: InstanceState['downCause'] }
  /** Self-healing: VIPs someone else deleted were put back (restored), or VIPs that appeared on a non-MASTER were removed. */
  | { type: 'vipsHealed'; heal: 'restored' | 'removed'; addresses: string[]; seen: string; deferredMs?: number };

export interface Counters {
  advertsSent: number;
  advertsReceived: number;
  priorityZeroSent: number;
  priorityZeroReceived: number;
  becameMaster: number;
  releasedMaster: number;
  addressMismatches: number;
  /** VIPs of ours deleted by someone else while MASTER, put back (incidents). */
  vipRestores: number;
  /** VIPs of ours added by someone else while not MASTER, removed (incidents). */
  vipRemovals: number;
  drops: Partial<Record<DropReason, number>>;
}

/** Everything an instance knows. Only step() (engine/instance.ts) produces new values of it. */
export interface InstanceState {
  readonly state: VrrpState;
  /** When the current state was entered (ms, caller's clock). */
  readonly since: number;
  readonly reason: TransitionReason | null;
  readonly reasonDetail: string;
  readonly effectivePriority: number;
  readonly trackWeight: number;
  readonly faults: readonly string[];
  /** Master_Adver_Interval (cs): ours as MASTER, learned from the master as v3 BACKUP. */
  readonly masterAdverIntervalCs: number;
  /** The current master's address and priority (ours when MASTER), null when unknown. */
  readonly master: string | null;
  readonly masterPriority: number | null;
  readonly lastAdvertAt: number | null;
  // Timers as data: absolute deadlines, null when not armed.
  readonly adverTimer: number | null;
  readonly masterDownTimer: number | null;
  readonly garpDelayTimer: number | null;
  readonly garpRefreshTimer: number | null;
  readonly holdUntil: number | null;
  /** Why the Master_Down_Timer is running; it names the transition when it fires. */
  readonly downCause: 'no-master' | 'master-silent' | 'master-resigned' | 'preempt' | 'yield-reclaim' | 'initial-state';
  /** Sync group member: its Master_Down_Timer fired and it waits for the group (keepalived wantstate MASTER). */
  readonly wantsMaster: boolean;
  /** Held back after a yield: accept any master, do not preempt. */
  readonly held: boolean;
  /** A yield waiting for its outcome: when it started. */
  readonly yieldStartedAt: number | null;
  /** preempt_delay: when we first saw the current lower-priority master. */
  readonly lowerMasterSince: number | null;
  /** Last lower-priority re-announce (split-brain heal), to rate-limit GARP bursts. */
  readonly lastHealAnnounceAt: number | null;
  /** The VIPs are ours on the box: between an addVips and the next removeVips. */
  readonly vipsHeld: boolean;
  /** MASTER waiting for servicesReady before adding the VIPs (InstanceConfig.awaitServices). */
  readonly awaitingServices: boolean;
  /** MASTER: VIPs lost again within the restore holdoff; the first Adver_Timer tick after it restores them. */
  readonly vipsMissing: readonly string[];
  /** The last VIP restore, to bound a fight with another program that keeps deleting them. */
  readonly lastVipRestoreAt: number | null;
  readonly counters: Counters;
}
