// Health checks of the real servers (keepalived HTTP_GET/SSL_GET/TCP_CHECK/MISC_CHECK): one loop per checked server.
import type { Logger } from 'pino';
import { isDeepStrictEqual } from 'node:util';
import type { VirtualServer } from '../config/schema.js';
import type { RealServer } from '../ipvs/reconcile.js';
import { canonicalAddress } from '../protocol/addr.js';
import { CheckLoop, type CheckType, type LoopSpec } from './checker.js';
import { httpProbe, MAX_BODY_BYTES } from './http.js';
import { miscScript, tcpConnect, type Probe } from './probes.js';

export type { CheckType } from './checker.js';

/** One checked real server, for `vrrpd status`. */
export interface CheckStatus {
  /** The virtualServers key. */
  service: string;
  address: string;
  /** The real server's port as configured (0 for fwmark services). */
  port: number;
  check: CheckType;
  /** What is probed: "address:port" or the script. */
  target: string;
  healthy: boolean;
  /** Why the last attempt failed; null after a success (and before the first failure). */
  lastError: string | null;
  /** ISO time of the last up/down change (of the start, when none yet). */
  lastChange: string;
}

export interface HealthCheckOptions {
  /** Body bytes read per HTTP response at most; default 1 MiB. */
  maxBodyBytes?: number;
}

interface Entry {
  /** Everything the loop was built from: equal = unchanged on reload. */
  fingerprint: unknown;
  loop: CheckLoop;
}

const keyOf = (service: string, address: string, port: number): string =>
  `${service}\u0000${canonicalAddress(address) ?? address}\u0000${port}`;

/** The port a check connects to: check.port, else the server's, else the service's; null when there is none. */
export function checkPort(vs: VirtualServer, rs: RealServer): number | null {
  const check = rs.checks[0];
  if (check && check.type !== 'misc' && check.port !== undefined) return check.port;
  if (rs.port !== 0) return rs.port;
  if (vs.fwmark === undefined && vs.port !== undefined && vs.port !== 0) return vs.port;
  return null;
}

/** The loop spec and probe of one real server's check (null: no check, always healthy). */
export function planCheck(service: string, vs: VirtualServer, rs: RealServer, options: HealthCheckOptions = {}):
  { spec: LoopSpec; probe: Probe; fingerprint: unknown } | null {
  const check = rs.checks[0];
  if (!check) return null;
  const address = canonicalAddress(rs.address) ?? rs.address;
  const base = { service, address, port: rs.port, delayLoop: vs.delayLoop };
  if (check.type === 'misc') {
    const spec: LoopSpec = {
      ...base, type: 'misc', target: check.script, retries: 0, delayBeforeRetry: 0,
      retryWhileDown: false, periodFromStart: true, failedRoundDelay: vs.delayLoop,
    };
    return { spec, probe: (signal) => miscScript(check.script, check.timeout, signal), fingerprint: { spec, check } };
  }
  const port = checkPort(vs, rs);
  const target = `${address.includes(':') ? `[${address}]` : address}:${port ?? 0}`;
  const common = {
    ...base, type: check.type, target, retries: check.retries, delayBeforeRetry: check.delayBeforeRetry, periodFromStart: false,
  };
  const spec: LoopSpec = check.type === 'tcp'
    ? { ...common, retryWhileDown: true, failedRoundDelay: vs.delayLoop }
    : { ...common, retryWhileDown: false, failedRoundDelay: Math.max(vs.delayLoop, check.delayBeforeRetry) };
  if (port === null) {
    spec.problem = `no port to check: the real server has port 0 (a fwmark service); set check.port`;
    return { spec, probe: () => Promise.resolve({ ok: false, reason: spec.problem! }), fingerprint: { spec, check } };
  }
  if (check.type === 'tcp') {
    return { spec, probe: (signal) => tcpConnect(address, port, check.connectTimeout, signal), fingerprint: { spec, check } };
  }
  // keepalived: the check's virtualhost, else the service's.
  const virtualHost = check.virtualHost ?? vs.virtualHost;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const probe = httpProbe({ tls: check.type === 'https', address, port, virtualHost, timeoutMs: check.connectTimeout, maxBodyBytes }, check.urls);
  return { spec, probe, fingerprint: { spec, check, virtualHost, maxBodyBytes } };
}

/**
 * The health checks of every real server that has a `check`. A server without one is always healthy.
 * Servers start healthy (keepalived's checkers start up, unless `alpha`, which vrrpd does not have); one whose
 * check cannot run (no port to connect to) is down from construction on, with the reason in status().
 *
 *   const checks = new HealthChecks(cfg.virtualServers, log, () => resync());
 *   checks.start();
 *   desiredTable(cfg.virtualServers, masters, { healthy: (s, rs) => checks.healthy(s, rs) });
 *   checks.update(newCfg.virtualServers);   // on reload; then reconcile
 *   checks.stop();
 *
 * onChange is called (synchronously, once per up/down change) after a transition; never from update().
 */
export class HealthChecks {
  private entries = new Map<string, Entry>();
  private started = false;
  private stopped = false;

  constructor(virtualServers: Readonly<Record<string, VirtualServer>>, private readonly log: Logger,
    private readonly onChange: () => void, private readonly options: HealthCheckOptions = {}) {
    this.entries = this.build(virtualServers, new Map());
  }

  /** Start every loop; each runs its first round at once. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const e of this.entries.values()) e.loop.start();
    if (this.entries.size) this.log.info({ checks: this.entries.size }, 'health checks started');
  }

  /**
   * A reload: loops whose server and check are unchanged keep running with their state; changed or new ones
   * start afresh (healthy); removed ones stop. Returns what changed. The caller reconciles afterwards.
   */
  update(virtualServers: Readonly<Record<string, VirtualServer>>): { kept: number; started: number; stopped: number } {
    if (this.stopped) return { kept: 0, started: 0, stopped: 0 };
    const old = this.entries;
    const next = this.build(virtualServers, old);
    let kept = 0;
    let started = 0;
    for (const [k, e] of next) {
      if (old.get(k) === e) kept++;
      else {
        started++;
        if (this.started) e.loop.start();
      }
    }
    let stopped = 0;
    for (const [k, e] of old) {
      if (next.get(k) !== e) {
        e.loop.stop();
        stopped++;
      }
    }
    this.entries = next;
    if (started || stopped) this.log.info({ kept, started, stopped }, 'health checks updated');
    return { kept, started, stopped };
  }

  /** Is this real server of this service healthy? True when it has no check (or is unknown). */
  healthy(service: string, realServer: Pick<RealServer, 'address' | 'port'>): boolean {
    return this.entries.get(keyOf(service, realServer.address, realServer.port))?.loop.healthy ?? true;
  }

  status(): CheckStatus[] {
    return [...this.entries.values()].map(({ loop }) => ({
      service: loop.spec.service,
      address: loop.spec.address,
      port: loop.spec.port,
      check: loop.spec.type,
      target: loop.spec.target,
      healthy: loop.healthy,
      lastError: loop.lastError,
      lastChange: loop.lastChange.toISOString(),
    }));
  }

  /** Stop every loop: timers cancelled, sockets of attempts in flight destroyed. Final. */
  stop(): void {
    this.stopped = true;
    for (const e of this.entries.values()) e.loop.stop();
  }

  /** Entries for a config, reusing the old entry (same object) where the fingerprint is unchanged. */
  private build(virtualServers: Readonly<Record<string, VirtualServer>>, old: ReadonlyMap<string, Entry>): Map<string, Entry> {
    const out = new Map<string, Entry>();
    for (const [service, vs] of Object.entries(virtualServers)) {
      for (const rs of vs.realServers) {
        const plan = planCheck(service, vs, rs, this.options);
        if (!plan) continue;
        const key = keyOf(service, rs.address, rs.port);
        if (out.has(key)) continue; // listed twice: the IPVS layer refuses that config
        const prev = old.get(key);
        if (prev && isDeepStrictEqual(prev.fingerprint, plan.fingerprint)) {
          out.set(key, prev);
          continue;
        }
        out.set(key, { fingerprint: plan.fingerprint, loop: new CheckLoop(plan.spec, plan.probe, this.log, () => this.onChange()) });
      }
    }
    return out;
  }
}
