// Track scripts (shell of track-core.ts, driven by one scheduler) and track files (integer × weight, inotify-driven).
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { isDeepStrictEqual } from 'node:util';
import type { Config, InstanceSettings, TrackFile, TrackScript } from '../config/schema.js';
import { checkExecutable, runScript, type ScriptResult } from '../os/scripts.js';
import type { Link } from '../net/ports.js';
import { DeadlineNotifier, processClock, type Timed, type TimedClock } from '../checks/timed.js';
import { initialTrackState, trackNextDeadline, trackStep, type ScriptState, type TrackEvent, type TrackState } from './track-core.js';

export type { ScriptState } from './track-core.js';

/** Where a tracker gets its time from, and whom it tells that its next deadline moved. */
export interface TrackerHost {
  now(): number;
  onDeadlinesChanged(): void;
}

/**
 * A track script (shell of track-core.ts): runs the script when the core says so and feeds the exit back with
 * host.now(); no timers of its own (its owner drives nextDeadline() / runDue(now)).
 */
export class ScriptTracker implements Timed {
  private core: TrackState;

  constructor(readonly name: string, readonly spec: TrackScript, private readonly log: Logger, private readonly onChange: () => void,
    private readonly host: TrackerHost) {
    this.core = initialTrackState(spec.initFail);
  }

  /** Unknown until the first result, counting as OK meanwhile (the instance waits in BACKUP anyway); failed with initFail. */
  get state(): ScriptState { return this.core.state; }
  /** The script is running. */
  get running(): boolean { return this.core.phase === 'running'; }

  start(): void {
    this.feed({ type: 'start' });
  }

  stop(): void {
    this.feed({ type: 'stop' });
  }

  nextDeadline(): number | null {
    return trackNextDeadline(this.core);
  }

  runDue(now: number): void {
    const d = this.nextDeadline();
    if (d !== null && d <= now) this.feed({ type: 'due' }, now);
  }

  private feed(ev: TrackEvent, now = this.host.now(), r?: ScriptResult): void {
    const before = this.nextDeadline();
    const { state, actions } = trackStep(this.core, this.spec, now, ev);
    this.core = state;
    for (const a of actions) {
      if (a.type === 'run') this.run();
      else {
        this.log.info({ script: this.name, from: a.from, to: a.to, timedOut: r?.timedOut }, `track script ${this.name}: ${a.to}`);
        this.onChange();
      }
    }
    if (this.nextDeadline() !== before) this.host.onDeadlinesChanged();
  }

  private run(): void {
    const failed = (e: unknown): ScriptResult =>
      ({ ok: false, code: null, signal: null, timedOut: false, ms: 0, stderr: e instanceof Error ? e.message : String(e) });
    void runScript(this.spec.script, [], this.spec.timeout).catch(failed).then((r) => {
      if (this.core.phase !== 'running') return; // stopped meanwhile: the result is ignored
      if (!r.ok) this.log.debug({ script: this.name, code: r.code, signal: r.signal, timedOut: r.timedOut, stderr: r.stderr }, 'track script failed');
      this.feed({ type: 'result', ok: r.ok }, this.host.now(), r);
    });
  }
}

export class FileTracker {
  /** The integer in the file; 0 when missing or not a number (keepalived does the same). */
  value = 0;
  private watcher: FSWatcher | null = null;
  private reading = false;

  constructor(readonly name: string, readonly spec: TrackFile, private readonly log: Logger, private readonly onChange: () => void) {}

  async start(): Promise<void> {
    await this.read();
    // Watch the directory: editors and `echo > f` replace or truncate the file; both show up there.
    try {
      this.watcher = watch(dirname(this.spec.file), (_ev, f) => {
        if (f === null || f === basename(this.spec.file)) void this.read();
      });
      this.watcher.on('error', (e) => this.log.warn({ file: this.spec.file, err: e.message }, 'track file watch error'));
    } catch (e) {
      this.log.warn({ file: this.spec.file, err: (e as Error).message }, 'cannot watch track file; its value stays as read at start');
    }
  }

  private async read(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    let v: number;
    try {
      const n = parseInt((await readFile(this.spec.file, 'utf8')).trim(), 10);
      v = Number.isFinite(n) ? n : 0;
    } catch {
      v = 0;
    }
    this.reading = false;
    if (v !== this.value) {
      this.log.info({ trackFile: this.name, from: this.value, to: v }, `track file ${this.name}: ${v}`);
      this.value = v;
      this.onChange();
    }
  }

  stop(): void {
    this.watcher?.close();
  }
}

export interface TrackingInputs {
  /** Weight-0 tracked interfaces: FAULT while down. */
  interfaces: { name: string; up: boolean }[];
  /** Weight-0 scripts and files: FAULT while failing / nonzero. */
  faults: { source: string; active: boolean }[];
  /** Sum of weighted trackers (keepalived: positive counts while good, negative while bad). */
  weight: number;
}

export interface TrackerOptions {
  /** Monotonic ms (the scheduler's clock); default performance.now(). */
  clock?: TimedClock;
  /**
   * An outside scheduler drives the track scripts: called whenever nextDeadline() may have moved; it then calls
   * runDue(now) at that deadline. Without it, a setTimeout driver of our own does (TimerDriver).
   */
  onDeadlinesChanged?: () => void;
}

/**
 * The scripts and files the config tracks, shared by all instances; notifies on any change.
 * Time: nextDeadline() / runDue(now) (Timed), driven by options.onDeadlinesChanged's scheduler or our own timer.
 */
export class TrackerSet implements Timed {
  private readonly scripts = new Map<string, ScriptTracker>();
  private readonly files = new Map<string, FileTracker>();
  private readonly host: TrackerHost;
  private readonly deadlines: DeadlineNotifier;

  constructor(private readonly log: Logger, private readonly onChange: () => void, options: TrackerOptions = {}) {
    const now = (options.clock ?? processClock()).now;
    this.deadlines = new DeadlineNotifier(this, now, options.onDeadlinesChanged);
    this.host = { now, onDeadlinesChanged: this.deadlines.changed };
  }

  /** The earliest run due among the track scripts (null: none). */
  nextDeadline(): number | null {
    let next: number | null = null;
    for (const t of this.scripts.values()) {
      const d = t.nextDeadline();
      if (d !== null && (next === null || d < next)) next = d;
    }
    return next;
  }

  /** Start every track script run due at or before `now`. */
  runDue(now: number): void {
    this.deadlines.batch(() => { for (const t of [...this.scripts.values()]) t.runDue(now); });
  }

  /** Track scripts running now. */
  inFlight(): number {
    let n = 0;
    for (const t of this.scripts.values()) if (t.running) n++;
    return n;
  }

  /** The state of a track script the config uses (undefined: not tracked). */
  scriptState(name: string): ScriptState | undefined {
    return this.scripts.get(name)?.state;
  }

  /** Start what the config uses; keep running trackers whose spec is unchanged (no reset on reload). */
  async sync(cfg: Config): Promise<void> {
    const usedScripts = new Set(Object.values(cfg.instances).flatMap((i) => i.trackScripts.map((t) => t.name)));
    const usedFiles = new Set(Object.values(cfg.instances).flatMap((i) => i.trackFiles.map((t) => t.name)));
    for (const [name, tr] of this.scripts) {
      if (!usedScripts.has(name) || !isDeepStrictEqual(tr.spec, cfg.trackScripts[name])) { tr.stop(); this.scripts.delete(name); }
    }
    for (const [name, tf] of this.files) {
      if (!usedFiles.has(name) || !isDeepStrictEqual(tf.spec, cfg.trackFiles[name])) { tf.stop(); this.files.delete(name); }
    }
    for (const name of usedScripts) {
      if (this.scripts.has(name)) continue;
      const tr = new ScriptTracker(name, cfg.trackScripts[name]!, this.log, this.onChange, this.host);
      this.scripts.set(name, tr);
      tr.start();
    }
    for (const name of usedFiles) {
      if (this.files.has(name)) continue;
      const tf = new FileTracker(name, cfg.trackFiles[name]!, this.log, this.onChange);
      this.files.set(name, tf);
      await tf.start();
    }
  }

  evaluate(s: InstanceSettings, links: Link[]): TrackingInputs {
    const out: TrackingInputs = { interfaces: [], faults: [], weight: 0 };
    const tracked = [...s.trackInterfaces];
    const isUp = (name: string): boolean => { const l = links.find((x) => x.name === name); return !!l && l.up && l.running; };
    if (!s.dontTrackPrimary && !tracked.some((t) => t.name === s.interface)) {
      // The implicit primary-interface fault. With extra advert paths the adverts still flow while any
      // path's link is up: the primary interface counts as down only when every path's link is.
      const up = isUp(s.interface) || s.extraPaths.some((p) => isUp(p.interface));
      out.interfaces.push({ name: s.interface, up });
    }
    for (const t of tracked) {
      const up = isUp(t.name);
      if (t.weight === 0) out.interfaces.push({ name: t.name, up });
      else if ((t.weight > 0 && up) || (t.weight < 0 && !up)) out.weight += t.weight;
    }
    for (const t of s.trackScripts) {
      const tr = this.scripts.get(t.name);
      if (!tr) continue;
      const w = t.weight ?? tr.spec.weight;
      const good = tr.state !== 'failed';
      if (w === 0) out.faults.push({ source: `script ${t.name}`, active: !good });
      else if ((w > 0 && good) || (w < 0 && !good)) out.weight += w;
    }
    for (const t of s.trackFiles) {
      const tf = this.files.get(t.name);
      if (!tf) continue;
      const w = t.weight ?? tf.spec.weight;
      if (w === 0) out.faults.push({ source: `file ${t.name}`, active: tf.value !== 0 });
      else out.weight += tf.value * w;
    }
    return out;
  }

  stop(): void {
    this.deadlines.stop();
    this.deadlines.batch(() => { for (const t of this.scripts.values()) t.stop(); });
    for (const t of this.files.values()) t.stop();
  }
}

/** Every notify and track script must exist before we start or reload (fail closed). */
export async function checkScripts(cfg: Config): Promise<void> {
  const problems: string[] = [];
  for (const [name, t] of Object.entries(cfg.trackScripts)) {
    const p = await checkExecutable(t.script);
    if (p) problems.push(`trackScripts.${name}.script: ${p}`);
  }
  for (const [name, i] of Object.entries(cfg.instances)) {
    for (const [k, v] of Object.entries(i.notify ?? {})) {
      if (typeof v !== 'string') continue;
      const p = await checkExecutable(v);
      if (p) problems.push(`instances.${name}.notify.${k}: ${p}`);
    }
  }
  if (problems.length) throw new Error(problems.join('; '));
}
