// Track scripts as the director uses them (TrackerSet): real scripts, rounds on a skip-ahead clock, sync on reload.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { TrackerSet } from '../../src/daemon/trackers.js';
import type { Link } from '../../src/net/ports.js';
import { SkipClock } from '../support/skip-clock.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'vrrpd-track-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let clock: SkipClock;
const open: TrackerSet[] = [];
beforeEach(() => { clock = new SkipClock(); });
afterEach(() => { for (const t of open.splice(0)) t.stop(); });

/** A script that logs each run to `<name>.runs` and succeeds while `<name>.ok` exists. */
function script(name: string, ok = true): { path: string; runs: () => number; set: (ok: boolean) => void } {
  const flag = join(dir, `${name}.ok`);
  const runs = join(dir, `${name}.runs`);
  const path = join(dir, `${name}.sh`);
  writeFileSync(path, `#!/bin/sh\necho run >> ${runs}\ntest -e ${flag}\n`);
  chmodSync(path, 0o755);
  writeFileSync(runs, '');
  const set = (v: boolean) => { if (v) writeFileSync(flag, ''); else rmSync(flag, { force: true }); };
  set(ok);
  return { path, set, runs: () => readFileSync(runs, 'utf8').split('\n').filter(Boolean).length };
}

function config(scripts: Record<string, string>, used: string[]): Config {
  const top = `trackScripts:\n${Object.entries(scripts).map(([n, s]) => `  ${n}: ${s}\n`).join('')}`;
  const r = parseConfig(`${top}instances:\n  vi_1:\n    interface: eth1\n    vrid: 1\n    version: 3\n    vips: [ "192.168.1.250/32 dev eth0" ]\n`
    + `    trackScripts: [ ${used.join(', ')} ]\n`, 't.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.config;
}

function trackers() {
  let changes = 0;
  const ts = clock.drive(new TrackerSet(log, () => changes++, { clock, onDeadlinesChanged: clock.changed }));
  open.push(ts);
  return { ts, changes: () => changes };
}

const links: Link[] = [{ index: 3, name: 'eth1', up: true, running: true, mac: null }];

describe('track scripts (TrackerSet)', () => {
  it('the first result decides; fall and rise count runs, every interval from the end of a run; a failure is a fault', async () => {
    const s = script('chk');
    const cfg = config({ chk: `{ script: ${s.path}, interval: 1s, fall: 2, rise: 2 }` }, ['chk']);
    const { ts, changes } = trackers();
    await ts.sync(cfg);
    expect(ts.scriptState('chk')).toBe('unknown'); // running its first run
    await clock.until(() => ts.scriptState('chk') === 'ok', 500, 'ok'); // no interval waited: the first run decides
    expect([s.runs(), changes()]).toEqual([1, 1]);
    expect(ts.evaluate(cfg.instances.vi_1!, links).faults).toEqual([{ source: 'script chk', active: false }]);

    s.set(false);
    const from = s.runs();
    await clock.until(() => ts.scriptState('chk') === 'failed', 5000, 'failed');
    expect(s.runs() - from).toBe(2); // fall 2: the second failing run
    expect(changes()).toBe(2);
    expect(ts.evaluate(cfg.instances.vi_1!, links).faults).toEqual([{ source: 'script chk', active: true }]);

    s.set(true);
    const back = s.runs();
    await clock.until(() => ts.scriptState('chk') === 'ok', 5000, 'ok again');
    expect(s.runs() - back).toBe(2); // rise 2
    expect(changes()).toBe(3);

    // each run starts an interval (1 s, virtual) after the previous one ended; the script itself takes real time
    const f = clock.fired;
    expect(f.length).toBe(s.runs() - 1); // all but the first run were started by a fired deadline
    for (let i = 1; i < f.length; i++) {
      expect(f[i]! - f[i - 1]!).toBeGreaterThanOrEqual(1000);
      expect(f[i]! - f[i - 1]!).toBeLessThan(2000);
    }
  });

  it('weights: a positive weight counts while the script is good (unknown counts as good), a negative one while it fails', async () => {
    const good = script('good');
    const bad = script('bad', false);
    const cfg = config({
      good: `{ script: ${good.path}, interval: 1s, weight: 10 }`,
      bad: `{ script: ${bad.path}, interval: 1s, weight: -20 }`,
    }, ['good', 'bad']);
    const { ts } = trackers();
    await ts.sync(cfg);
    expect(ts.evaluate(cfg.instances.vi_1!, links).weight).toBe(10); // both unknown: good
    await clock.until(() => ts.scriptState('bad') === 'failed' && ts.scriptState('good') === 'ok', 500);
    expect(ts.evaluate(cfg.instances.vi_1!, links)).toMatchObject({ weight: -10, faults: [] });
  });

  it('sync(): an unchanged script keeps running with its state; a changed one starts afresh; a removed one stops', async () => {
    const a = script('a', false);
    const b = script('b');
    const spec = (p: string, interval = '1s') => `{ script: ${p}, interval: ${interval} }`;
    const { ts, changes } = trackers();
    await ts.sync(config({ a: spec(a.path), b: spec(b.path) }, ['a', 'b']));
    await clock.until(() => a.runs() >= 2 && b.runs() >= 2, 3000);
    expect([ts.scriptState('a'), ts.scriptState('b'), changes()]).toEqual(['failed', 'ok', 2]);

    // identical config (new objects): nothing restarts, nothing re-runs at once
    const [ra, rb] = [a.runs(), b.runs()];
    await ts.sync(config({ a: spec(a.path), b: spec(b.path) }, ['a', 'b']));
    expect([a.runs(), b.runs(), ts.scriptState('a')]).toEqual([ra, rb, 'failed']);

    // a's interval changes: a fresh tracker (unknown, first run at once); b is no longer used: stopped
    await ts.sync(config({ a: spec(a.path, '2s'), b: spec(b.path) }, ['a']));
    expect(ts.scriptState('a')).toBe('unknown');
    expect(ts.scriptState('b')).toBeUndefined();
    await clock.until(() => ts.scriptState('a') === 'failed', 500);
    const stoppedAt = b.runs();
    const before = a.runs();
    await clock.advance(9_000);
    expect(b.runs()).toBe(stoppedAt);
    expect(a.runs() - before).toBe(4); // every 2 s (from the end of a run)
  });

  it('stop(): no deadline left and no further run', async () => {
    const s = script('st');
    const { ts } = trackers();
    await ts.sync(config({ st: `{ script: ${s.path}, interval: 1s }` }, ['st']));
    await clock.until(() => ts.scriptState('st') === 'ok', 500);
    expect(ts.nextDeadline()).not.toBeNull();
    ts.stop();
    expect(ts.nextDeadline()).toBeNull();
    const n = s.runs();
    await clock.advance(5000);
    expect(s.runs()).toBe(n);
  });
});
