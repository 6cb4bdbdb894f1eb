// Track scripts (run every interval, rise/fall) and track files (integer × weight, inotify-driven).
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { isDeepStrictEqual } from 'node:util';
import type { Config, InstanceSettings, TrackFile, TrackScript } from '../config/schema.js';
import { checkExecutable, runScript } from '../os/scripts.js';
import type { Link } from '../net/ports.js';

/** Unknown until the first result; counts as OK meanwhile (the instance is waiting in BACKUP anyway). */
export type ScriptState = 'unknown' | 'ok' | 'failed';

export class ScriptTracker {
  state: ScriptState = 'unknown';
  private successes = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(readonly name: string, readonly spec: TrackScript, private readonly log: Logger, private readonly onChange: () => void) {}

  start(): void {
    void this.tick();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const r = await runScript(this.spec.script, [], this.spec.timeout);
    if (this.stopped) return;
    if (r.ok) {
      this.successes++;
      this.failures = 0;
    } else {
      this.failures++;
      this.successes = 0;
      this.log.debug({ script: this.name, code: r.code, signal: r.signal, timedOut: r.timedOut, stderr: r.stderr }, 'track script failed');
    }
    const prev = this.state;
    // keepalived's rise/fall; the first result decides at once.
    if (r.ok && (prev !== 'ok') && (prev === 'unknown' || this.successes >= this.spec.rise)) this.state = 'ok';
    if (!r.ok && (prev !== 'failed') && (prev === 'unknown' || this.failures >= this.spec.fall)) this.state = 'failed';
    if (this.state !== prev) {
      this.log.info({ script: this.name, from: prev, to: this.state, timedOut: r.timedOut }, `track script ${this.name}: ${this.state}`);
      this.onChange();
    }
    this.timer = setTimeout(() => void this.tick(), this.spec.interval);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
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

/** The scripts and files the config tracks, shared by all instances; notifies on any change. */
export class TrackerSet {
  private readonly scripts = new Map<string, ScriptTracker>();
  private readonly files = new Map<string, FileTracker>();

  constructor(private readonly log: Logger, private readonly onChange: () => void) {}

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
      const tr = new ScriptTracker(name, cfg.trackScripts[name]!, this.log, this.onChange);
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
    if (!s.dontTrackPrimary && !tracked.some((t) => t.name === s.interface)) tracked.push({ name: s.interface, weight: 0 });
    for (const t of tracked) {
      const l = links.find((x) => x.name === t.name);
      const up = !!l && l.up && l.running;
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
    for (const t of this.scripts.values()) t.stop();
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
