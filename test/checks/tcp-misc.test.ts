// TCP_CHECK (connect on the loopback) and MISC_CHECK (scripts): up, down with reason, retries, recovery, timeouts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HealthChecks } from '../../src/checks/index.js';
import { captureLog, closedPort, LOOPBACK, tcpServer, vs, waitFor } from './helpers.js';
import { SkipClock } from '../support/skip-clock.js';

const open: { stop(): void }[] = [];
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.stop();
  for (const s of servers.splice(0)) await s.close();
});
const dir = mkdtempSync(join(tmpdir(), 'vrrpd-checks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** Rounds and retries run on virtual time (no test sleeps for a delay); probes and scripts take real time. */
let clock: SkipClock;
beforeEach(() => { clock = new SkipClock(); });

function checks(port: number, check: Record<string, unknown>, delayLoop = '50ms') {
  const { log, lines } = captureLog();
  let changes = 0;
  const hc = clock.drive(new HealthChecks({ web: vs({ address: '127.0.0.100', port: 80, delayLoop, realServers: [{ address: LOOPBACK, port, check }] }) },
    log, () => changes++, { clock, onDeadlinesChanged: clock.changed }));
  open.push(hc);
  hc.start();
  return {
    lines,
    changes: () => changes,
    healthy: () => hc.healthy('web', { address: LOOPBACK, port }),
    st: () => hc.status()[0]!,
    transitions: () => lines.filter((l) => l.state === 'up' || l.state === 'down'),
  };
}

describe('TCP_CHECK', () => {
  it('up: a connect succeeds, every delayLoop, and the connection is closed at once', async () => {
    const srv = await tcpServer();
    servers.push(srv);
    const c = checks(srv.port, { type: 'tcp', connectTimeout: '500ms' });
    await clock.until(() => srv.connections >= 3, 2000, '3 rounds');
    expect(c.healthy()).toBe(true);
    expect(c.st()).toMatchObject({ check: 'tcp', target: `${LOOPBACK}:${srv.port}`, healthy: true, lastError: null });
    await waitFor(() => srv.open() === 0, 1000, 'connections closed');
  });

  it('down: connection refused after 1 + retries attempts (default retries 1); a down server is still retried (keepalived)', async () => {
    const port = await closedPort();
    const c = checks(port, { type: 'tcp', connectTimeout: '500ms', delayBeforeRetry: '20ms' }, '150ms');
    await clock.until(() => !c.healthy(), 2000);
    expect(c.transitions()[0]!.reason).toBe('connection refused (ECONNREFUSED) (2 attempts)');
    // TCP_CHECK keeps its retries while down: one more round = one more retry line
    await clock.until(() => c.lines.filter((l) => l.msg === 'health check failed; retrying').length >= 2, 2000, 'a retry in the 2nd round');
    expect(c.changes()).toBe(1);
  });

  it('recovery: up on the first connect that succeeds', async () => {
    const port = await closedPort();
    const c = checks(port, { type: 'tcp', connectTimeout: '500ms', retries: 0 });
    await clock.until(() => !c.healthy(), 2000);
    // the same port, now listening
    const again = createServer((s) => s.destroy());
    await new Promise<void>((r) => again.listen(port, LOOPBACK, () => r()));
    servers.push({ close: () => new Promise((r) => again.close(() => r())) });
    await clock.until(() => c.healthy(), 2000, 'up');
    expect(c.transitions().map((l) => [l.state, l.reason])).toEqual([['down', 'connection refused (ECONNREFUSED)'], ['up', 'connected']]);
  });
});

describe('MISC_CHECK', () => {
  it('exit 0: healthy, run every delayLoop counted from the start of a run (keepalived)', async () => {
    const runs = join(dir, 'runs');
    writeFileSync(runs, '');
    const ends = join(dir, 'ends');
    writeFileSync(ends, '');
    const c = checks(0, { type: 'misc', script: `sh -c "date +%s%N >> ${runs}; sleep 0.2; date +%s%N >> ${ends}"`, timeout: '2s' }, '300ms');
    await clock.until(() => readFileSync(runs, 'utf8').trim().split('\n').length >= 3, 4000, '3 runs');
    expect(c.healthy()).toBe(true);
    expect(c.st()).toMatchObject({ check: 'misc', lastError: null });
    // every run was started by the clock (a fired deadline): their virtual start times
    const lines = readFileSync(runs, 'utf8').trim().split('\n').length;
    expect(clock.fired.length).toBeGreaterThanOrEqual(lines);
    const t = clock.fired.slice(0, lines);
    // How long each run took (real time; the clock never skips while a run is in flight).
    const ms = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((x) => Number(x) / 1e6);
    const [starts, stops] = [ms(runs), ms(ends)];
    for (let i = 1; i < t.length; i++) {
      // from the start: delayLoop (300 ms) apart, or the run's length when it ran longer (never two at once);
      // counted from the end it would be the run's length + 300 ms
      const took = (stops[i - 1] ?? Infinity) - starts[i - 1]!;
      expect(t[i]! - t[i - 1]!).toBeGreaterThanOrEqual(280);
      expect(t[i]! - t[i - 1]!).toBeLessThan(Math.max(300, took) + 100);
      expect(t[i]! - t[i - 1]!).toBeLessThan(took + 300 - 20);
    }
  });

  it('exit 1: down at once (no retries), the exit status and stderr in the reason', async () => {
    const c = checks(0, { type: 'misc', script: 'sh -c "echo backend gone >&2; exit 1"' });
    await clock.until(() => !c.healthy(), 3000);
    expect(c.transitions()[0]!.reason).toBe('script exit status 1: backend gone');
  });

  it('a script running past its timeout is killed: down, "timed out"', async () => {
    const t0 = performance.now();
    const c = checks(0, { type: 'misc', script: 'sleep 5', timeout: '150ms' }, '10s');
    await clock.until(() => !c.healthy(), 3000);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(c.transitions()[0]!.reason).toBe('script timed out after 150 ms (killed)');
  });

  it('a missing program: down with a reason; recovery on the first exit 0', async () => {
    const flag = join(dir, 'ready');
    const missing = checks(0, { type: 'misc', script: join(dir, 'no-such-script') });
    const c = checks(0, { type: 'misc', script: `test -e ${flag}` });
    await clock.until(() => !c.healthy() && !missing.healthy(), 3000);
    expect(missing.transitions()[0]!.reason).toContain('script could not be started');
    expect(c.transitions()[0]!.reason).toBe('script exit status 1');
    writeFileSync(flag, '');
    await clock.until(() => c.healthy(), 3000, 'up');
    expect(c.changes()).toBe(2);
  });
});
