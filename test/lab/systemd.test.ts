// vrrpd as systemd runs it (issue 11, parts 3 and 6): Type=notify messages on a NOTIFY_SOCKET we listen on, the watchdog
// pings stopping while the loop is wedged (test hook), and the scheduling flags (SCHED_RR on every thread, affinity,
// locked code).
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLab, daemonAvailable, labConfig, labSupported, reapOrphanLabs, sleep, waitFor, CLI, type Lab } from '../../src/lab/topology.js';
import { NotifyListener } from '../support/notify-listener.js';

const skip = !labSupported().ok;

describe.skipIf(skip)('vrrpd under systemd (real daemon, NOTIFY_SOCKET)', () => {
  let lab: Lab;
  let listener: NotifyListener | null = null;
  beforeAll(async () => {
    if (!existsSync(CLI) || !daemonAvailable()) throw new Error('dist is not built: npm run build');
    await reapOrphanLabs();
  });
  beforeEach(async () => { lab = await createLab(); });
  afterEach(async () => {
    listener?.close();
    listener = null;
    await lab?.destroy();
  });

  it('READY=1 once running, STATUS= follows the state, WATCHDOG=1 pings stop while the loop is wedged, STOPPING=1 on stop', async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'vrrpd-notify-')), 'notify');
    listener = new NotifyListener(sock);
    const l = listener;
    // A notify script records its own scheduling policy: children must not inherit SCHED_RR (reset on fork).
    const policyFile = join(sock, '..', 'notify-policy');
    const cfg = lab.writeConfig('lvs1', labConfig('lvs1', { advertInterval: '100ms', version: 3,
      extra: { notify: { master: `/bin/sh -c 'cut -d" " -f41 /proc/self/stat > ${policyFile}'` } } }));
    const t0 = performance.now();
    const p = lab.spawnIn('lvs1', ['env', `NOTIFY_SOCKET=${sock}`, 'WATCHDOG_USEC=200000', 'VRRPD_TEST_WEDGE_MS=1500',
      process.execPath, CLI, 'run', '-f', cfg, '--socket', join(sock, '..', 'ctl.sock'),
      '--rt-priority', '10', '--cpu-affinity', '0', '--lock-memory'], 'vrrpd@lvs1');
    await waitFor(async () => l.with('READY=1').length === 1, 10_000, 20, 'READY=1')
      .catch((e: Error) => { throw new Error(`${e.message}\nstdout: ${p.tail(false)}\nstderr: ${p.tail(true)}`); });
    const ready = l.with('READY=1')[0]!;
    expect(ready.text).toMatch(/^READY=1\nSTATUS=vi_100 (BACKUP|MASTER)\nMAINPID=\d+$/);
    // Control socket listening by then: READY=1 means "usable".
    expect(existsSync(join(sock, '..', 'ctl.sock'))).toBe(true);
    await waitFor(async () => l.messages.some((m) => m.text.includes('STATUS=vi_100 MASTER')), 5000, 20, 'STATUS=vi_100 MASTER');

    // Scheduling from the flags: every thread SCHED_RR 10, CPU 0 only.
    const pid = p.pid!;
    const tasks = readdirSync(`/proc/${pid}/task`);
    for (const t of tasks) {
      const f = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' ');
      expect({ task: t, policy: Number(f[38]), rtprio: Number(f[37]) }).toEqual({ task: t, policy: 2, rtprio: 10 }); // SCHED_RR
    }
    // The notify script ran SCHED_OTHER (policy 0), not at the daemon's real-time priority.
    await waitFor(async () => existsSync(policyFile) && readFileSync(policyFile, 'utf8').trim() !== '', 5000, 20, 'the notify script ran');
    expect(readFileSync(policyFile, 'utf8').trim()).toBe('0');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    expect(/Cpus_allowed_list:\s+(\S+)/.exec(status)![1]).toBe('0');
    // --lock-memory: node's text, the libraries and the addon locked (on fault), resident pages among them; the
    // daemon lives on through GCs and the exit below (under mlockall V8 aborts at its first heap page release).
    const kb = (text: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    expect(kb(status, 'VmLck')).toBeGreaterThan(20_000);
    // node's text mapping carries the lock flags (VmFlags lo: locked, lf: on fault); the heap (anonymous) does not.
    const maps = readFileSync(`/proc/${pid}/smaps`, 'utf8').split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
    const flags = (m: string | undefined) => /^VmFlags:(.*)$/m.exec(m ?? '')?.[1]?.trim().split(/\s+/) ?? [];
    expect(flags(maps.find((m) => / r-xp .*\/node$/.test(m.split('\n')[0]!)))).toEqual(expect.arrayContaining(['lo', 'lf']));
    const anon = maps.filter((m) => /^\S+ rw-p 00000000 00:00 0\s*$/.test(m.split('\n')[0]!));
    expect(anon.length).toBeGreaterThan(0);
    expect(anon.filter((m) => flags(m).includes('lo'))).toEqual([]);

    // Pings every ~100 ms (half of WATCHDOG_USEC).
    await sleep(1000);
    const pings = () => l.with('WATCHDOG=1').map((m) => m.at);
    const before = pings().filter((t) => t > performance.now() - 1000);
    expect(before.length).toBeGreaterThanOrEqual(6);
    expect(before.length).toBeLessThanOrEqual(12);
    // A wedged loop: no ping for the 1.5 s it lasts.
    const w = performance.now();
    p.signal('SIGUSR2');
    await sleep(2500);
    const around = pings().filter((t) => t > w - 300);
    const gaps = around.slice(1).map((t, i) => t - around[i]!);
    expect(Math.max(...gaps)).toBeGreaterThan(1300);
    expect(around.filter((t) => t > w + 1700).length).toBeGreaterThanOrEqual(3); // and they come back
    p.signal('SIGTERM');
    await p.exited;
    expect(p.exitCode).toBe(0);
    const stopping = l.with('STOPPING=1');
    expect(stopping).toHaveLength(1);
    expect(l.messages.at(-1)).toBe(stopping[0]); // nothing after it
    console.log(`READY after ${(ready.at - t0).toFixed(0)} ms; ${l.messages.length} messages; ${tasks.length} threads at SCHED_RR 10`);
  });
});
