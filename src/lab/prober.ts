// The client's view of the VIP: starts the UDP responders and the prober in the lab, and measures who served and the outages.
import { join } from 'node:path';
import { LAB_DIST, VIP, waitFor, type DirectorName, type Lab, type LabProcess } from './topology.js';

export interface ProbeReply { t: number; seq: number; name: string }
export interface ProbeGap { from: number; to: number; ms: number }
export interface ProbeSummary {
  summary: true;
  sent: number;
  received: number;
  /** Silences longer than 3 × interval, between replies (and from the start / to the end of sending). */
  gaps: ProbeGap[];
  servedBy: Record<string, number>;
  maxGapMs: number;
}

export const PROBE_PORT = 7777;

const round = (x: number) => Number(x.toFixed(3));

/** Gaps longer than 3 × interval in a series of reply times, counting the edges [start, end]. */
export function findGaps(times: readonly number[], intervalMs: number, start: number, end: number): ProbeGap[] {
  const threshold = 3 * intervalMs;
  const gaps: ProbeGap[] = [];
  const sorted = [...times].sort((a, b) => a - b);
  let prev = start;
  for (const t of [...sorted, end]) {
    if (t - prev > threshold) gaps.push({ from: round(prev), to: round(t), ms: round(t - prev) });
    prev = Math.max(prev, t);
  }
  return gaps;
}

export function summarize(replies: readonly ProbeReply[], sent: number, intervalMs: number, start: number, end: number): ProbeSummary {
  const servedBy: Record<string, number> = {};
  for (const r of replies) servedBy[r.name] = (servedBy[r.name] ?? 0) + 1;
  const gaps = findGaps(replies.map((r) => r.t), intervalMs, start, end);
  return { summary: true, sent, received: replies.length, gaps, servedBy, maxGapMs: Math.max(0, ...gaps.map((g) => g.ms)) };
}

/** Start `responder.js NAME PORT` in each director; resolves once both listen. */
export async function startResponders(lab: Lab, port = PROBE_PORT, nodes: readonly DirectorName[] = ['lvs1', 'lvs2']): Promise<Map<DirectorName, LabProcess>> {
  const out = new Map<DirectorName, LabProcess>();
  for (const n of nodes) {
    const p = lab.spawnIn(n, [process.execPath, join(LAB_DIST, 'responder.js'), n, String(port)], `responder@${n}`);
    out.set(n, p);
  }
  await Promise.all([...out.values()].map((p) => p.waitLine((l) => l.includes('"listening":true'), 10_000)));
  return out;
}

export interface ProbeOptions { target?: string; port?: number; intervalMs?: number; durationMs?: number }

/** A running prober in the client namespace, with its replies aligned to this process's clock. */
export class ClientProbe {
  /** performance.now() here minus the probe's t (smallest seen: the least delayed line). */
  private offset = Number.POSITIVE_INFINITY;
  private parsed = 0;
  private readonly replyList: ProbeReply[] = [];
  private summaryValue: (ProbeSummary & Record<string, unknown>) | null = null;

  constructor(readonly proc: LabProcess, readonly intervalMs: number, readonly durationMs: number) {}

  private parse(): void {
    const lines = this.proc.lines;
    for (; this.parsed < lines.length; this.parsed++) {
      const l = lines[this.parsed]!;
      let o: Record<string, unknown>;
      try { o = JSON.parse(l.text) as Record<string, unknown>; } catch { continue; }
      if (o.summary === true) this.summaryValue = o as ProbeSummary & Record<string, unknown>;
      else if (o.start === true) this.offset = Math.min(this.offset, l.at);
      else if (typeof o.t === 'number' && typeof o.name === 'string') {
        this.replyList.push(o as unknown as ProbeReply);
        this.offset = Math.min(this.offset, l.at - o.t);
      }
    }
  }

  replies(): ProbeReply[] { this.parse(); return this.replyList; }

  /** A time of this process (performance.now()) on the probe's clock. */
  probeTime(localMs: number): number { this.parse(); return localMs - (Number.isFinite(this.offset) ? this.offset : localMs); }

  /** Who answered last, and when (probe clock). */
  last(): ProbeReply | null { const r = this.replies(); return r[r.length - 1] ?? null; }

  /** Replies received after a local time (performance.now()). */
  since(localMs: number): ProbeReply[] {
    const t = this.probeTime(localMs);
    return this.replies().filter((r) => r.t >= t);
  }

  /**
   * The longest silence seen by the client around an event at local time `fromLocal` (performance.now()),
   * up to `toLocal`: from the last reply before the event to each following reply (or to `toLocal` if still silent).
   */
  outage(fromLocal: number, toLocal = performance.now()): { ms: number; from: number; to: number; before: string | null; after: string | null } {
    const from = this.probeTime(fromLocal);
    const to = this.probeTime(toLocal);
    const rs = this.replies().filter((r) => r.t <= to);
    let i = rs.findIndex((r) => r.t >= from);
    if (i < 0) i = rs.length;
    let prev: ProbeReply | null = i > 0 ? rs[i - 1]! : null;
    let best = { ms: 0, from, to: from, before: prev?.name ?? null, after: null as string | null };
    for (; i < rs.length; i++) {
      const r = rs[i]!;
      const start = prev ? prev.t : from;
      if (r.t - start > best.ms) best = { ms: round(r.t - start), from: start, to: r.t, before: prev?.name ?? null, after: r.name };
      prev = r;
    }
    const tailStart = prev ? prev.t : from;
    if (to - tailStart > 3 * this.intervalMs && to - tailStart > best.ms) {
      best = { ms: round(to - tailStart), from: tailStart, to, before: prev?.name ?? null, after: null };
    }
    return best;
  }

  /** The switch of server to `to` after local time `fromLocal`: the last reply from another director, the first from `to`. */
  handover(fromLocal: number, to: string): { ms: number; lastOld: ProbeReply | null; firstNew: ProbeReply } | null {
    const from = this.probeTime(fromLocal);
    const rs = this.replies();
    for (let k = 0; k < rs.length; k++) {
      const r = rs[k]!;
      const prev = k > 0 ? rs[k - 1]! : null;
      if (r.t < from || r.name !== to || prev?.name === to) continue;
      return { ms: round(r.t - (prev?.t ?? from)), lastOld: prev, firstNew: r };
    }
    return null;
  }

  /** Wait until `n` consecutive replies come from `name` (after local time `afterLocal`). */
  async waitServedBy(name: string, timeoutMs: number, afterLocal = performance.now(), n = 5): Promise<ProbeReply> {
    return waitFor(() => {
      const rs = this.since(afterLocal);
      const tail = rs.slice(-n);
      return tail.length === n && tail.every((r) => r.name === name) ? tail[tail.length - 1]! : null;
    }, timeoutMs, 50, `the client to be served by ${name}`);
  }

  /** The prober's own summary line, once it ends (within its duration + 10 s). */
  async summary(): Promise<ProbeSummary & Record<string, unknown>> {
    await this.proc.waitLine((l) => l.includes('"summary":true'), this.durationMs + 10_000);
    this.parse();
    return this.summaryValue!;
  }

  stop(): Promise<unknown> { return this.proc.stop(500); }
}

/** Start probe.js in the client namespace (defaults: the VIP, every 20 ms, for 30 s); resolves once it runs. */
export async function startProbe(lab: Lab, o: ProbeOptions = {}): Promise<ClientProbe> {
  const intervalMs = o.intervalMs ?? 20;
  const durationMs = o.durationMs ?? 30_000;
  const p = lab.spawnIn('client', [process.execPath, join(LAB_DIST, 'probe.js'), o.target ?? VIP, String(o.port ?? PROBE_PORT),
    String(intervalMs), String(durationMs)], 'probe@client');
  await p.waitLine((l) => l.includes('"start":true'), 10_000);
  return new ClientProbe(p, intervalMs, durationMs);
}

/** A short probe to completion: who serves the VIP right now. */
export async function whoServes(lab: Lab, durationMs = 600, intervalMs = 20): Promise<ProbeSummary & Record<string, unknown>> {
  const probe = await startProbe(lab, { durationMs, intervalMs });
  return probe.summary();
}
