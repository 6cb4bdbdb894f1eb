// HealthChecks as the daemon uses it: healthy() into desiredTable, status(), update() on reload, stop() releasing everything.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HealthChecks } from '../../src/checks/index.js';
import type { VirtualServer } from '../../src/config/schema.js';
import { desiredTable } from '../../src/ipvs/reconcile.js';
import { captureLog, closedPort, httpServer, LOOPBACK, sleep, tcpServer, vs, waitFor } from './helpers.js';
import { SkipClock } from '../support/skip-clock.js';

const here = dirname(fileURLToPath(import.meta.url));
const open: { stop(): void }[] = [];
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.stop();
  for (const s of servers.splice(0)) await s.close();
});

/** /ok answers 200, anything else 500. */
async function web() {
  const srv = await httpServer((q, res) => {
    res.statusCode = q.url === '/ok' ? 200 : 500;
    res.end();
  });
  servers.push(srv);
  return srv;
}
/** Rounds run on virtual time (no test sleeps for a delay); probes take real time on the loopback. */
let clock: SkipClock;
beforeEach(() => { clock = new SkipClock(); });
const httpCheck = (path: string, port?: number) => ({ type: 'http', urls: [{ path }], connectTimeout: '500ms', retries: 0, delayBeforeRetry: '20ms', ...(port ? { port } : {}) });

function start(table: Record<string, VirtualServer>) {
  const { log, lines } = captureLog();
  let changes = 0;
  const hc = clock.drive(new HealthChecks(table, log, () => changes++, { clock, onDeadlinesChanged: clock.changed }));
  open.push(hc);
  hc.start();
  return { hc, lines, changes: () => changes };
}

describe('HealthChecks', () => {
  it('feeds desiredTable: a failing server is left out; the sorry server takes over when none is healthy', async () => {
    const a = await web();
    const b = await web();
    const table = (pa: string, pb: string) => ({
      svc: vs({
        address: '127.0.0.100', port: 80, forwarding: 'nat', delayLoop: '50ms', sorryServer: { address: '127.0.0.3', port: 80 },
        realServers: [
          { address: LOOPBACK, port: a.port, weight: 10, check: httpCheck(pa) },
          { address: LOOPBACK, port: b.port, weight: 20, check: httpCheck(pb) },
          { address: '127.0.0.2', port: 81, weight: 0 }, // no check: always healthy (weight 0: does not hold off the sorry server)
        ],
      }),
    });
    const t1 = table('/ok', '/fail');
    const { hc, changes } = start(t1);
    await clock.until(() => changes() === 1, 2000, 'b down');
    const opts = { healthy: (s: string, rs: { address: string; port: number }) => hc.healthy(s, rs) };
    expect(desiredTable(t1, undefined, opts)[0]!.dests.map((d) => `${d.address}:${d.port}`)).toEqual([`${LOOPBACK}:${a.port}`, '127.0.0.2:81']);
    expect(desiredTable(t1, undefined, opts)[0]!.sorry).toBe(false);

    const t2 = table('/fail', '/fail');
    expect(hc.update(t2)).toEqual({ kept: 1, started: 1, stopped: 1 });
    await clock.until(() => changes() === 2, 2000, 'a down');
    const d = desiredTable(t2, undefined, opts)[0]!;
    expect(d.sorry).toBe(true);
    expect(d.dests.map((x) => x.address)).toEqual(['127.0.0.3']);
    expect(hc.healthy('svc', { address: '127.0.0.2', port: 81 })).toBe(true);
    expect(hc.healthy('other', { address: LOOPBACK, port: a.port })).toBe(true); // unknown: healthy
  });

  it('status(): one entry per checked server, ISO lastChange, the last error', async () => {
    const a = await web();
    const t0 = Date.now();
    const { hc } = start({
      s1: vs({ address: '127.0.0.100', port: 80, delayLoop: '50ms', realServers: [{ address: LOOPBACK, port: a.port, check: httpCheck('/fail') }, { address: '127.0.0.2', port: 80 }] }),
    });
    await clock.until(() => !hc.status()[0]!.healthy, 2000);
    const [s, ...rest] = hc.status();
    expect(rest).toEqual([]);
    expect(s).toEqual({
      service: 's1', address: LOOPBACK, port: a.port, check: 'http', target: `${LOOPBACK}:${a.port}`, healthy: false,
      lastError: 'GET /fail: HTTP status 500, expected 200-299', lastChange: expect.any(String),
    });
    expect(Date.parse(s!.lastChange)).toBeGreaterThanOrEqual(t0 - 1);
  });

  it('update(): unchanged checks keep running with their state; changed ones restart healthy; removed ones stop', async () => {
    const a = await web();
    const b = await web();
    const cfg = (pathA: string, withB: boolean, delayLoop = '50ms') => ({
      s1: vs({ address: '127.0.0.100', port: 80, delayLoop, realServers: [{ address: LOOPBACK, port: a.port, check: httpCheck(pathA) }] }),
      s2: vs({ address: '127.0.0.101', port: 80, delayLoop: '50ms', realServers: withB ? [{ address: LOOPBACK, port: b.port, check: httpCheck('/ok') }] : [] }),
    });
    const { hc, lines, changes } = start(cfg('/fail', true));
    await clock.until(() => !hc.healthy('s1', { address: LOOPBACK, port: a.port }) && b.hits.length >= 2, 2000);
    const downAt = hc.status()[0]!.lastChange;
    const firstLogs = lines.filter((l) => String(l.msg).includes('check passed')).length;

    // a reload with an identical config (new objects): nothing restarts, the down state and its time stay
    expect(hc.update(cfg('/fail', true))).toEqual({ kept: 2, started: 0, stopped: 0 });
    const hitsA = a.hits.length;
    await clock.until(() => a.hits.length >= hitsA + 2, 2000, 'a still checked');
    expect(hc.healthy('s1', { address: LOOPBACK, port: a.port })).toBe(false);
    expect(hc.status()[0]!.lastChange).toBe(downAt);
    expect(lines.filter((l) => String(l.msg).includes('check passed')).length).toBe(firstLogs); // s2's loop was not restarted
    expect(changes()).toBe(1);

    // the check of a changes: a fresh loop, healthy until it fails; s2 is removed: its loop stops
    expect(hc.update(cfg('/ok', false))).toEqual({ kept: 0, started: 1, stopped: 2 });
    expect(hc.healthy('s1', { address: LOOPBACK, port: a.port })).toBe(true);
    const hitsB = b.hits.length;
    await clock.until(() => a.hits.filter((h) => h.url === '/ok').length >= 2, 2000);
    await clock.advance(1000); // 20 of s2's rounds, had it kept running
    expect(b.hits.length).toBe(hitsB);
    expect(hc.status().map((s) => s.service)).toEqual(['s1']);
    expect(changes()).toBe(1); // update() never calls onChange; the fresh loop stayed up

    // the service's delayLoop is part of the check: a change restarts it
    expect(hc.update(cfg('/ok', false, '60ms'))).toEqual({ kept: 0, started: 1, stopped: 1 });
  });

  it('stop() aborts an attempt in flight: the server sees the connection closed at once', async () => {
    const silent = await tcpServer();
    servers.push(silent);
    const { hc } = start({ s: vs({ address: '127.0.0.100', port: 80, delayLoop: '10s',
      realServers: [{ address: LOOPBACK, port: silent.port, check: { ...httpCheck('/'), connectTimeout: '10s' } }] }) });
    await clock.until(() => silent.open() === 1, 2000, 'the check connected');
    hc.stop();
    await waitFor(() => silent.open() === 0, 500, 'socket closed by stop()');
    expect(hc.healthy('s', { address: LOOPBACK, port: silent.port })).toBe(true);
  });

  it('stop() leaves no handle: a child process with checks in flight exits by itself right after stop()', async () => {
    const silent = await tcpServer();
    const listening = await tcpServer();
    servers.push(silent, listening);
    const refused = await closedPort();
    const run = (extra: string[]) => {
      const child = spawn(process.execPath, ['--import', join(here, 'fixtures', 'register-ts.mjs'), join(here, 'fixtures', 'stop-child.mjs'),
        String(silent.port), String(listening.port), String(refused), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      return { child, exited, out: () => out, err: () => err };
    };
    const bounded = <T>(p: Promise<T>, ms: number) => Promise.race([p, sleep(ms).then(() => 'still running' as const)]);

    const stopped = run([]);
    const control = run(['nostop']); // without stop() the same child keeps running (its checks hold it for 10 s)
    await waitFor(() => stopped.out().includes('"stopped":true'), 10_000, `the child's stop (stderr: ${stopped.err()})`);
    const t0 = performance.now();
    expect(await bounded(stopped.exited, 3000), stopped.err()).toBe(0);
    expect(performance.now() - t0).toBeLessThan(3000);
    const report = JSON.parse(stopped.out().trim()) as { status: { healthy: boolean; port: number }[] };
    expect(report.status.map((s) => s.healthy)).toEqual([true, true, true]); // the refused one is still in its retries

    try {
      await waitFor(() => control.out().includes('"stopped":false'), 10_000, `the control child (stderr: ${control.err()})`);
      expect(await bounded(control.exited, 1000)).toBe('still running');
    } finally {
      control.child.kill('SIGKILL');
      await control.exited;
    }
  });
});
