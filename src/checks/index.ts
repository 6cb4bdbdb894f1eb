// Health checks of the real servers (keepalived's checkers): one loop per checker; a server is healthy while all of its pass.
import type { Logger } from 'pino';
import { isDeepStrictEqual } from 'node:util';
import type { Check, RealServer, VirtualServer } from '../config/schema.js';
import { canonicalAddress } from '../protocol/addr.js';
import { CheckLoop, type CheckType, type LoopHost, type LoopSpec } from './checker.js';
import { dnsProbe } from './dns.js';
import { effectiveWeight, FileCheck, type FileSpec } from './file.js';
import { httpProbe, MAX_BODY_BYTES } from './http.js';
import { pingProbe } from './ping.js';
import { miscScript, tcpConnect, type Probe } from './probes.js';
import { smtpProbe } from './smtp.js';
import { parseHex, udpProbe } from './udp.js';
import { DeadlineNotifier, processClock, type Timed, type TimedClock } from './timed.js';

export type { CheckType } from './checker.js';

/** One checker of a real server, for `vrrpd status`. */
export interface CheckStatus {
  /** The virtualServers key. */
  service: string;
  address: string;
  /** The real server's port as configured (0 for fwmark services). */
  port: number;
  check: CheckType;
  /** What is probed: "address:port", the script, or the file. */
  target: string;
  healthy: boolean;
  /** Why the last attempt failed; null after a success (and before the first failure). */
  lastError: string | null;
  /** ISO time of the last up/down change (of the start, when none yet). */
  lastChange: string;
  /** FILE_CHECK: what it adds to the server's weight now. */
  weightAdjust?: number;
}

export interface HealthCheckOptions {
  /** Body bytes read per HTTP response at most; default 1 MiB. */
  maxBodyBytes?: number;
  /** Monotonic ms and its wall offset (the scheduler's clock); default performance.now(). */
  clock?: TimedClock;
  /**
   * An outside scheduler drives the loops: called whenever nextDeadline() may have moved; it then calls
   * runDue(now) at that deadline. Without it, a setTimeout driver of our own does (TimerDriver).
   */
  onDeadlinesChanged?: () => void;
}

/** A running checker: a probe loop, or a watched file. */
type Checker = Pick<CheckLoop, 'healthy' | 'lastError' | 'lastChange' | 'stop'> & {
  readonly spec: { service: string; address: string; port: number; type: CheckType; target: string };
  adjust?: number;
  start(): void;
  /** Probe loops run on the scheduler's clock; a watched file has no deadline. */
  nextDeadline?(): number | null;
  runDue?(now: number): void;
  readonly probing?: boolean;
};

interface Running {
  /** Everything the checker was built from: equal = unchanged on reload. */
  fingerprint: unknown;
  checker: Checker;
}

interface Entry {
  checkers: Running[];
}

const keyOf = (service: string, address: string, port: number): string =>
  `${service}\u0000${canonicalAddress(address) ?? address}\u0000${port}`;

/** The port a check connects to: check.port, else the server's, else the service's; null when there is none. */
export function checkPort(vs: VirtualServer, rs: RealServer, check: Check | undefined = rs.checks[0]): number | null {
  if (check && 'port' in check && check.port !== undefined) return check.port;
  if (rs.port !== 0) return rs.port;
  if (vs.fwmark === undefined && vs.port !== undefined && vs.port !== 0) return vs.port;
  return null;
}

export type CheckPlan =
  | { kind: 'loop'; spec: LoopSpec; probe: Probe; fingerprint: unknown }
  | { kind: 'file'; spec: FileSpec; fingerprint: unknown };

const bracket = (a: string) => (a.includes(':') ? `[${a}]` : a);

/** The loop spec and probe of one checker of a real server. */
export function planCheck(service: string, vs: VirtualServer, rs: RealServer, check: Check, options: HealthCheckOptions = {}): CheckPlan {
  const server = { service, address: canonicalAddress(rs.address) ?? rs.address, port: rs.port };
  if (check.type === 'file') {
    const spec: FileSpec = { ...server, type: 'file', target: check.file, weight: check.weight, reverse: check.reverse };
    return { kind: 'file', spec, fingerprint: { spec } };
  }
  const delayLoop = check.delayLoop ?? vs.delayLoop;
  const base = {
    ...server, delayLoop,
    ...(check.alpha ?? vs.alpha ? { alpha: true } : {}),
    ...(check.warmup ? { warmup: check.warmup } : {}),
  };
  if (check.type === 'misc') {
    const spec: LoopSpec = {
      ...base, type: 'misc', target: check.script, retries: 0, delayBeforeRetry: 0,
      retryWhileDown: false, periodFromStart: true, failedRoundDelay: delayLoop,
    };
    return { kind: 'loop', spec, probe: (signal) => miscScript(check.script, check.timeout, signal), fingerprint: { spec, check } };
  }
  const address = check.address !== undefined ? canonicalAddress(check.address) ?? check.address : server.address;
  const port = check.type === 'ping' ? 0 : checkPort(vs, rs, check);
  const target = check.type === 'ping' ? address : `${bracket(address)}:${port ?? 0}`;
  // keepalived: DNS_CHECK's delay_before_retry defaults to its delay_loop.
  const delayBeforeRetry = check.delayBeforeRetry ?? delayLoop;
  const spec: LoopSpec = {
    ...base, type: check.type, target, retries: check.retries, delayBeforeRetry, periodFromStart: false,
    // keepalived: TCP_CHECK retries even while down; HTTP_GET waits max(delay_loop, delay_before_retry) after a failed round.
    retryWhileDown: check.type === 'tcp',
    failedRoundDelay: check.type === 'http' || check.type === 'https' ? Math.max(delayLoop, delayBeforeRetry) : delayLoop,
  };
  const fingerprint = { spec, check, maxBodyBytes: options.maxBodyBytes };
  if (port === null) {
    spec.problem = `no port to check: the real server has port 0 (a fwmark service); set check.port`;
    return { kind: 'loop', spec, probe: () => Promise.resolve({ ok: false, reason: spec.problem! }), fingerprint };
  }
  const net = { address, port, timeoutMs: check.connectTimeout, ...(check.sourceAddress ? { sourceAddress: check.sourceAddress } : {}) };
  let probe: Probe;
  switch (check.type) {
    case 'tcp':
      probe = (signal) => tcpConnect(address, port, check.connectTimeout, signal, check.sourceAddress);
      break;
    case 'dns':
      probe = dnsProbe({ ...net, queryType: check.queryType, name: check.name, ...(check.expect ? { expect: check.expect } : {}) });
      break;
    case 'udp': {
      const payload = check.payload !== undefined ? parseHex(check.payload)?.data : undefined;
      const replyData = check.replyData !== undefined ? parseHex(check.replyData, true) ?? undefined : undefined;
      probe = udpProbe({
        ...net, requireReply: check.requireReply, minReplyLength: check.minReplyLength, maxReplyLength: check.maxReplyLength,
        ...(payload ? { payload } : {}), ...(replyData ? { replyData } : {}),
      });
      break;
    }
    case 'ping':
      probe = pingProbe({ address, timeoutMs: check.connectTimeout, ...(check.sourceAddress ? { sourceAddress: check.sourceAddress } : {}) });
      break;
    case 'smtp':
      probe = smtpProbe({ ...net, heloName: check.heloName });
      break;
    default: {
      // keepalived: the check's virtualhost, else the service's.
      const virtualHost = check.virtualHost ?? vs.virtualHost;
      const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
      probe = httpProbe({ tls: check.type === 'https', ...net, virtualHost, maxBodyBytes }, check.urls);
      return { kind: 'loop', spec, probe, fingerprint: { ...fingerprint, virtualHost } };
    }
  }
  return { kind: 'loop', spec, probe, fingerprint };
}

/**
 * The health checks of every real server that has `checks`. A server without any is always healthy; a server with
 * several is healthy only while every one passes (keepalived). Checkers start passing (keepalived's is_up), unless
 * alpha: then they start failed until their first pass. One whose check cannot run (no port to connect to) is
 * failed from construction on, with the reason in status(). FILE_CHECKs also adjust the server's weight.
 *
 *   const checks = new HealthChecks(cfg.virtualServers, log, () => resync());
 *   checks.start();
 *   desiredTable(cfg.virtualServers, masters, { healthy: (s, rs) => checks.healthy(s, rs), weight: (s, rs) => checks.weight(s, rs) });
 *   checks.update(newCfg.virtualServers);   // on reload; then reconcile
 *   checks.stop();
 *
 * onChange is called (synchronously, once per change of a checker) after a transition; never from update().
 * Time: nextDeadline() / runDue(now) (Timed), driven by options.onDeadlinesChanged's scheduler or our own timer.
 */
export class HealthChecks implements Timed {
  private entries = new Map<string, Entry>();
  private started = false;
  private stopped = false;
  private readonly host: LoopHost;
  private readonly deadlines: DeadlineNotifier;

  constructor(virtualServers: Readonly<Record<string, VirtualServer>>, private readonly log: Logger,
    private readonly onChange: () => void, private readonly options: HealthCheckOptions = {}) {
    const clock = options.clock ?? processClock();
    this.deadlines = new DeadlineNotifier(this, clock.now, options.onDeadlinesChanged);
    this.host = { now: clock.now, wallOffset: clock.wallOffset, onDeadlinesChanged: this.deadlines.changed };
    this.entries = this.build(virtualServers, new Map()).entries;
  }

  private *checkers(): Generator<Checker> {
    for (const e of this.entries.values()) for (const r of e.checkers) yield r.checker;
  }

  /** The earliest attempt due among all loops (null: none, e.g. all in flight). */
  nextDeadline(): number | null {
    let next: number | null = null;
    for (const c of this.checkers()) {
      const d = c.nextDeadline?.() ?? null;
      if (d !== null && (next === null || d < next)) next = d;
    }
    return next;
  }

  /** Start every attempt due at or before `now`. */
  runDue(now: number): void {
    if (this.stopped) return;
    this.deadlines.batch(() => { for (const c of [...this.checkers()]) c.runDue?.(now); });
  }

  /** Attempts in flight. */
  inFlight(): number {
    let n = 0;
    for (const c of this.checkers()) if (c.probing) n++;
    return n;
  }

  /** Start every checker; each loop runs its first round at once (or within its warm-up). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    let n = 0;
    this.deadlines.batch(() => { for (const c of this.checkers()) { c.start(); n++; } });
    if (n) this.log.info({ checks: n }, 'health checks started');
  }

  /**
   * A reload: checkers whose server and check are unchanged keep running with their state; changed or new ones
   * start afresh; removed ones stop. Returns what changed (in checkers). The caller reconciles afterwards.
   */
  update(virtualServers: Readonly<Record<string, VirtualServer>>): { kept: number; started: number; stopped: number } {
    if (this.stopped) return { kept: 0, started: 0, stopped: 0 };
    const old = this.entries;
    const { entries: next, reused } = this.build(virtualServers, old);
    let kept = 0;
    let started = 0;
    let stopped = 0;
    this.entries = next;
    this.deadlines.batch(() => {
      for (const e of next.values()) {
        for (const r of e.checkers) {
          if (reused.has(r)) kept++;
          else {
            started++;
            if (this.started) r.checker.start();
          }
        }
      }
      for (const e of old.values()) {
        for (const r of e.checkers) {
          if (!reused.has(r)) {
            r.checker.stop();
            stopped++;
          }
        }
      }
    });
    if (started || stopped) this.log.info({ kept, started, stopped }, 'health checks updated');
    return { kept, started, stopped };
  }

  /** Is this real server of this service healthy (every checker passing)? True when it has none (or is unknown). */
  healthy(service: string, realServer: Pick<RealServer, 'address' | 'port'>): boolean {
    return this.entries.get(keyOf(service, realServer.address, realServer.port))?.checkers.every((r) => r.checker.healthy) ?? true;
  }

  /** The server's IPVS weight: its configured weight plus what its FILE_CHECKs add, within 0 .. 2^31-1. */
  weight(service: string, realServer: Pick<RealServer, 'address' | 'port' | 'weight'>): number {
    const e = this.entries.get(keyOf(service, realServer.address, realServer.port));
    const adjust = e?.checkers.flatMap((r) => (r.checker.adjust !== undefined ? [r.checker.adjust] : [])) ?? [];
    return adjust.length ? effectiveWeight(realServer.weight, adjust) : realServer.weight;
  }

  status(): CheckStatus[] {
    return [...this.entries.values()].flatMap((e) => e.checkers.map(({ checker: c }) => ({
      service: c.spec.service,
      address: c.spec.address,
      port: c.spec.port,
      check: c.spec.type,
      target: c.spec.target,
      healthy: c.healthy,
      lastError: c.lastError,
      lastChange: c.lastChange.toISOString(),
      ...(c.adjust !== undefined ? { weightAdjust: c.adjust } : {}),
    })));
  }

  /** Stop every checker: timers cancelled, sockets of attempts in flight destroyed, file watches closed. Final. */
  stop(): void {
    this.stopped = true;
    for (const c of this.checkers()) c.stop();
  }

  /** Entries for a config, reusing an old checker (same object) where its fingerprint is unchanged. */
  private build(virtualServers: Readonly<Record<string, VirtualServer>>, old: ReadonlyMap<string, Entry>):
    { entries: Map<string, Entry>; reused: Set<Running> } {
    const entries = new Map<string, Entry>();
    const reused = new Set<Running>();
    for (const [service, vs] of Object.entries(virtualServers)) {
      for (const rs of vs.realServers) {
        if (!rs.checks.length) continue;
        const key = keyOf(service, rs.address, rs.port);
        if (entries.has(key)) continue; // listed twice: the IPVS layer refuses that config
        const free = [...(old.get(key)?.checkers ?? [])];
        const checkers = rs.checks.map((check): Running => {
          const plan = planCheck(service, vs, rs, check, this.options);
          const i = free.findIndex((r) => isDeepStrictEqual(r.fingerprint, plan.fingerprint));
          if (i >= 0) {
            const r = free.splice(i, 1)[0]!;
            reused.add(r);
            return r;
          }
          const checker: Checker = plan.kind === 'file'
            ? new FileCheck(plan.spec, this.log, () => this.onChange())
            : new CheckLoop(plan.spec, plan.probe, this.log, () => this.onChange(), this.host);
          return { fingerprint: plan.fingerprint, checker };
        });
        entries.set(key, { checkers });
      }
    }
    return { entries, reused };
  }
}
