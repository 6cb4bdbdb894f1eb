// Announce mode's decision, pure: fitness over time (up/down delays, hold-down), yield/resume, the drain → actions.
//
// A group is `withdrawn` (its VIPs nowhere), `announced` (on the announce interface: BIRD exports them to its BGP peers)
// or `draining` (off the announce interface, so BGP withdraws them (RFC 4271 §3.1: a route withdrawn is no longer
// used by the peer), still local so IPVS serves the packets in flight, until no packet comes, no connection is active,
// or a timeout). Time is an argument; nothing here reads a clock or does I/O.

export interface AnnounceTiming {
  /** Fit without a break this long before announcing. */
  upDelayMs: number;
  /** Unfit without a break this long before withdrawing. */
  downDelayMs: number;
  /** After a withdrawal, no announcement before this long (a resume lifts it). */
  holdDownMs: number;
  drainTimeoutMs: number;
  /** No new packet for this long while draining: drained. */
  drainQuietMs: number;
}

export type AnnouncePhase = 'withdrawn' | 'announced' | 'draining';
export type DrainCause = 'yield' | 'unfit' | 'stop';
export type DrainOutcome = 'no-connections' | 'quiet' | 'timeout' | 'nothing-announced' | 'reannounced';

export interface DrainState {
  cause: DrainCause;
  startedAt: number;
  /** Active connections of the group's services at the last sample; null before one. */
  activeConns: number | null;
  /** Packets in (a counter) at the last sample; null before one. */
  packets: number | null;
  /** When the counter last moved (the drain's start until a sample shows it moving). */
  lastPacketAt: number;
}

export interface AnnounceState {
  phase: AnnouncePhase;
  fit: boolean;
  /** Why the group is unfit (empty when fit). */
  why: string[];
  /** Start of the current fit / unfit stretch. */
  fitSince: number | null;
  unfitSince: number | null;
  /** The last withdrawal (hold-down counts from it); null when none counts. */
  withdrawnAt: number | null;
  /** Yielded: stays withdrawn until resume. */
  held: boolean;
  stopped: boolean;
  /** When the phase last changed, and why. */
  since: number;
  reason: string;
  drain: DrainState | null;
  lastDrain: { cause: DrainCause; outcome: DrainOutcome; afterMs: number; activeConns: number | null } | null;
}

export type AnnounceEvent =
  | { type: 'fitness'; fit: boolean; why: readonly string[] }
  | { type: 'tick' }
  | { type: 'yield' }
  | { type: 'resume' }
  | { type: 'stop' }
  /** A sample of the group's services while draining: active connections and the packets-in counter. */
  | { type: 'traffic'; activeConns: number; packets: number };

export type AnnounceAction =
  /** VIPs onto the announce interface (and off lo). */
  | { type: 'announce'; reason: string }
  /** VIPs off the announce interface, onto lo (BGP withdraws them; IPVS keeps serving what arrives). */
  | { type: 'withdraw'; reason: string; cause: DrainCause }
  /** VIPs off lo: the drain is over. */
  | { type: 'release' }
  /** A drain ended (yield waits for this). */
  | { type: 'drained'; cause: DrainCause; outcome: DrainOutcome; afterMs: number; activeConns: number | null };

export interface AnnounceStep { state: AnnounceState; actions: AnnounceAction[] }

/** A group at start: withdrawn, unfit until the first evaluation says otherwise. */
export function initialAnnounce(now: number): AnnounceState {
  return {
    phase: 'withdrawn', fit: false, why: ['not evaluated yet'], fitSince: null, unfitSince: now, withdrawnAt: null,
    held: false, stopped: false, since: now, reason: 'starting', drain: null, lastDrain: null,
  };
}

/** One event, then whatever the time allows; returns the new state and the actions in the order to run them. */
export function stepAnnounce(prev: AnnounceState, t: AnnounceTiming, now: number, ev: AnnounceEvent): AnnounceStep {
  const s: AnnounceState = { ...prev, why: [...prev.why], drain: prev.drain && { ...prev.drain } };
  const actions: AnnounceAction[] = [];
  switch (ev.type) {
    case 'fitness':
      if (ev.fit && !s.fit) { s.fitSince = now; s.unfitSince = null; }
      if (!ev.fit && s.fit) { s.unfitSince = now; s.fitSince = null; }
      s.fit = ev.fit;
      s.why = ev.fit ? [] : [...ev.why];
      break;
    case 'yield':
      s.held = true;
      if (s.phase === 'announced') withdraw(s, now, 'yield', 'yield (drain)', actions);
      else if (s.phase === 'withdrawn') actions.push({ type: 'drained', cause: 'yield', outcome: 'nothing-announced', afterMs: 0, activeConns: null });
      break;
    case 'resume':
      s.held = false;
      s.withdrawnAt = null; // an operator's resume is not a flap: no hold-down
      break;
    case 'stop':
      s.stopped = true;
      if (s.phase === 'announced') withdraw(s, now, 'stop', 'stopping', actions);
      return { state: s, actions };
    case 'traffic':
      if (s.drain) {
        // The first sample is a baseline taken after the withdrawal: what came before it is unknown, so quiet counts from it.
        if (s.drain.packets === null || ev.packets !== s.drain.packets) s.drain.lastPacketAt = now;
        s.drain.packets = ev.packets;
        s.drain.activeConns = ev.activeConns;
      }
      break;
    case 'tick':
      break;
  }
  if (!s.stopped) settle(s, t, now, actions);
  return { state: s, actions };
}

function withdraw(s: AnnounceState, now: number, cause: DrainCause, reason: string, actions: AnnounceAction[]): void {
  s.phase = 'draining';
  s.since = now;
  s.reason = reason;
  s.withdrawnAt = cause === 'unfit' ? now : s.withdrawnAt;
  s.drain = { cause, startedAt: now, activeConns: null, packets: null, lastPacketAt: now };
  actions.push({ type: 'withdraw', reason, cause });
}

function mayAnnounce(s: AnnounceState, t: AnnounceTiming, now: number): boolean {
  if (s.held || !s.fit || s.fitSince === null) return false;
  if (now - s.fitSince < t.upDelayMs) return false;
  return s.withdrawnAt === null || now - s.withdrawnAt >= t.holdDownMs;
}

function endDrain(s: AnnounceState, now: number, outcome: DrainOutcome, actions: AnnounceAction[]): void {
  const d = s.drain!;
  s.lastDrain = { cause: d.cause, outcome, afterMs: now - d.startedAt, activeConns: d.activeConns };
  actions.push({ type: 'drained', cause: d.cause, outcome, afterMs: now - d.startedAt, activeConns: d.activeConns });
  s.drain = null;
}

function settle(s: AnnounceState, t: AnnounceTiming, now: number, actions: AnnounceAction[]): void {
  if (s.phase === 'announced') {
    if (!s.fit && s.unfitSince !== null && now - s.unfitSince >= t.downDelayMs) withdraw(s, now, 'unfit', `unfit: ${s.why.join('; ')}`, actions);
    return;
  }
  if (s.phase === 'draining') {
    const d = s.drain!;
    if (mayAnnounce(s, t, now)) {
      endDrain(s, now, 'reannounced', actions);
      announce(s, now, actions);
      return;
    }
    const outcome: DrainOutcome | null = d.activeConns === 0 ? 'no-connections'
      : d.packets !== null && now - d.lastPacketAt >= t.drainQuietMs ? 'quiet'
        : now - d.startedAt >= t.drainTimeoutMs ? 'timeout' : null;
    if (outcome === null) return;
    endDrain(s, now, outcome, actions);
    actions.push({ type: 'release' });
    s.phase = 'withdrawn';
    s.since = now;
    s.reason = `drained (${outcome})`;
  }
  if (s.phase === 'withdrawn' && mayAnnounce(s, t, now)) announce(s, now, actions);
}

function announce(s: AnnounceState, now: number, actions: AnnounceAction[]): void {
  s.phase = 'announced';
  s.since = now;
  s.reason = 'fit';
  actions.push({ type: 'announce', reason: 'fit' });
}

/** When the state next needs a tick (a delay or a drain deadline runs out); null when nothing is pending. */
export function announceDeadline(s: AnnounceState, t: AnnounceTiming): number | null {
  if (s.stopped) return null;
  const c: number[] = [];
  if (s.phase === 'announced' && !s.fit && s.unfitSince !== null) c.push(s.unfitSince + t.downDelayMs);
  if (s.phase !== 'announced' && s.fit && !s.held && s.fitSince !== null) {
    c.push(Math.max(s.fitSince + t.upDelayMs, s.withdrawnAt === null ? -Infinity : s.withdrawnAt + t.holdDownMs));
  }
  if (s.drain) {
    c.push(s.drain.startedAt + t.drainTimeoutMs);
    if (s.drain.packets !== null) c.push(s.drain.lastPacketAt + t.drainQuietMs);
  }
  return c.length ? Math.min(...c) : null;
}
