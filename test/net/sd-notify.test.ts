// sd_notify over AF_UNIX: a path and an abstract NOTIFY_SOCKET receive the datagrams; the watchdog period and the status line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SdNotifySocket } from '../../src/net/sd-notify.js';
import { sockaddrUn } from '../../src/net/sockaddr.js';
import { statusLine, watchdogPeriodMs } from '../../src/daemon/systemd.js';
import type { StatusReport } from '../../src/daemon/status.js';
import { NotifyListener } from '../support/notify-listener.js';

const until = async (cond: () => boolean, ms = 2000) => {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('sd_notify', () => {
  it('sockaddr_un: a path is NUL-terminated, an abstract name is its bytes after a leading NUL', () => {
    const p = sockaddrUn('/run/x');
    expect([...p.subarray(2)]).toEqual([...Buffer.from('/run/x\0')]);
    const a = sockaddrUn('@sd');
    expect([...a.subarray(2)]).toEqual([0, ...Buffer.from('sd')]);
    expect(p.readUInt16LE(0)).toBe(1);
    expect(() => sockaddrUn(`/${'x'.repeat(200)}`)).toThrow(RangeError);
  });

  for (const kind of ['path', 'abstract'] as const) {
    it(`sends datagrams to a ${kind} NOTIFY_SOCKET`, async () => {
      const path = kind === 'path' ? join(mkdtempSync(join(tmpdir(), 'sdn-')), 'notify') : `@vrrpd-test-${process.pid}-${Date.now()}`;
      const l = new NotifyListener(path);
      const s = SdNotifySocket.fromEnv({ NOTIFY_SOCKET: path })!;
      expect(s.send('READY=1\nSTATUS=vi_1 MASTER')).toBe(true);
      await until(() => l.messages.length === 1);
      expect(l.with('READY=1')).toHaveLength(1);
      expect(l.messages[0]!.text).toBe('READY=1\nSTATUS=vi_1 MASTER');
      l.close();
      expect(s.send('WATCHDOG=1')).toBe(false); // nobody listens: an error, never a throw
      expect(s.lastError).not.toBeNull();
      s.close();
    });
  }

  it('no NOTIFY_SOCKET (or a relative one): no notifier', () => {
    expect(SdNotifySocket.fromEnv({})).toBeNull();
    expect(SdNotifySocket.fromEnv({ NOTIFY_SOCKET: 'relative' })).toBeNull();
  });

  it('the watchdog period is half of WATCHDOG_USEC, for our pid only', () => {
    expect(watchdogPeriodMs({ WATCHDOG_USEC: '2000000' }, 7)).toBe(1000);
    expect(watchdogPeriodMs({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '8' }, 7)).toBeNull();
    expect(watchdogPeriodMs({}, 7)).toBeNull();
  });

  it('the status line names every instance and its state, faults and an IPVS error', () => {
    const st = {
      daemon: { pid: 1, startedAt: '', drops: {} },
      instances: [{ name: 'vi_100', state: 'MASTER', faults: [] }, { name: 'vi_101', state: 'FAULT', faults: ['interface eth0'] }],
      ipvs: { available: false, error: 'IPVS unavailable', syncRole: 'none', services: [] },
    } as unknown as StatusReport;
    expect(statusLine(st)).toBe('vi_100 MASTER, vi_101 FAULT (interface eth0), IPVS: IPVS unavailable');
  });
});
