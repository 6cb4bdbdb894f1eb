// Timing settings (issue 11 part 3): which mappings --lock-memory locks, and keepalived's vrrp_rt_priority, vrrp_no_swap and
// vrrp_cpu_affinity carried into global.scheduling (or refused at their line).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockableMappings } from '../../src/daemon/realtime.js';
import { loadAnyConfig } from '../../src/config/load.js';

// The shape of a Node 20 process's /proc/self/maps (abridged).
const MAPS = `00400000-00b72000 r--p 00000000 fe:00 260689                             /usr/bin/node
00b72000-025fe000 r-xp 00772000 fe:00 260689                             /usr/bin/node
0563e000-0565d000 rw-p 0523d000 fe:00 260689                             /usr/bin/node
0565d000-0567e000 rw-p 00000000 00:00 0
06a8c000-06e5c000 rw-p 00000000 00:00 0                                  [heap]
1d8b00000000-1d8b00040000 rw-p 00000000 00:00 0
1d8b00040000-1d8b00080000 ---p 00000000 00:00 0
7f1c4c000000-7f1c4c021000 rw-p 00000000 00:00 0
7f1c50a00000-7f1c50a28000 r--p 00000000 fe:00 1311                       /usr/lib/x86_64-linux-gnu/libc.so.6
7f1c50a28000-7f1c50b9d000 r-xp 00028000 fe:00 1311                       /usr/lib/x86_64-linux-gnu/libc.so.6
7f1c50c00000-7f1c50c10000 r-xp 00000000 fe:00 99                         /work/main/build/Release/vrrpd_native.node
7f1c51000000-7f1c51001000 rw-s 00000000 00:05 12                         /dev/zero (deleted)
7f1c51100000-7f1c51200000 r-xp 00000000 00:01 7                          /memfd:jit (deleted)
7f1c51300000-7f1c51301000 r--p 00000000 fe:00 44                         /tmp/gone.so (deleted)
7f1c51400000-7f1c51401000 ---p 00000000 fe:00 1311                       /usr/lib/x86_64-linux-gnu/libc.so.6
7ffd2b5e0000-7ffd2b601000 rw-p 00000000 00:00 0                          [stack]
7ffd2b7f0000-7ffd2b7f4000 r--p 00000000 00:00 0                          [vvar]
7ffd2b7f4000-7ffd2b7f6000 r-xp 00000000 00:00 0                          [vdso]
`;

describe('lockableMappings (--lock-memory)', () => {
  it('locks readable file mappings and the stack; never anonymous memory (the V8 heap), [heap], devices, memfd, deleted files', () => {
    const got = lockableMappings(MAPS).map((m) => `${m.start.toString(16)} ${m.path}`);
    expect(got).toEqual([
      '400000 /usr/bin/node', 'b72000 /usr/bin/node', '563e000 /usr/bin/node',
      '7f1c50a00000 /usr/lib/x86_64-linux-gnu/libc.so.6', '7f1c50a28000 /usr/lib/x86_64-linux-gnu/libc.so.6',
      '7f1c50c00000 /work/main/build/Release/vrrpd_native.node', '7ffd2b5e0000 [stack]',
    ]);
    const text = lockableMappings(MAPS)[1]!;
    expect(text.end - text.start).toBe(0x025fe000n - 0x00b72000n);
  });
  it('reads this process\'s own maps: node\'s text is among them', async () => {
    const { readFileSync } = await import('node:fs');
    const own = lockableMappings(readFileSync('/proc/self/maps', 'utf8'));
    expect(own.some((m) => m.path === process.execPath || m.path.endsWith('/node'))).toBe(true);
    expect(own.some((m) => m.path === '[stack]')).toBe(true);
  });
});

describe('keepalived global_defs scheduling keywords', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vrrpd-sched-'));
  let n = 0;
  const load = (globals: string) => {
    const f = join(dir, `k${n++}.conf`);
    writeFileSync(f, `global_defs {\n${globals}}\nvrrp_instance VI_1 {\n    interface eth1\n    virtual_router_id 10\n    priority 100\n    virtual_ipaddress {\n        192.0.2.10\n    }\n}\n`);
    return loadAnyConfig(f, { format: 'keepalived' });
  };

  it('vrrp_rt_priority, vrrp_no_swap and vrrp_cpu_affinity become global.scheduling', async () => {
    const r = await load('    vrrp_rt_priority 40\n    vrrp_no_swap\n    vrrp_cpu_affinity 0 1\n');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.global.scheduling).toMatchObject({ realtimePriority: 40, lockMemory: true, cpuAffinity: [0, 1] });
    // vrrp_no_swap says at its line what it does not lock.
    expect(r.warnings.find((w) => w.line === 3)?.message).toMatch(/not its JavaScript heap/);
  });
  it('without them, the defaults: no real-time priority, nothing locked, every CPU', async () => {
    const r = await load('    router_id LVS1\n');
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.config.global.scheduling).toEqual({ realtimePriority: 0, policy: 'rr', lockMemory: false, cpuAffinity: [] });
  });
  it('refuses a priority outside 1-99 and a CPU that is not a number, at their lines', async () => {
    const r = await load('    router_id LVS1\n    vrrp_rt_priority 120\n    vrrp_cpu_affinity 0 x\n');
    expect(r.ok).toBe(false);
    const errs = r.ok ? [] : r.errors.map((e) => `${e.line} ${e.message}`);
    expect(errs.some((e) => e.startsWith('3 ') && /1-99/.test(e))).toBe(true);
    expect(errs.some((e) => e.startsWith('4 ') && /whole number/.test(e))).toBe(true);
  });
});
