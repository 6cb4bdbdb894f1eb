// global.netNamespace: `vrrpd run` started in the root namespace enters the named one (setns) and works entirely inside it.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createLab, daemonAvailable, labConfig, labSupported, reapOrphanLabs, run, waitFor, CLI, LabProcess, VIP, type Lab,
} from '../../src/lab/topology.js';
import { capture } from './helpers.js';

const skip = !labSupported().ok;

/** The namespace inode a path refers to (/run/netns/NAME or /proc/PID/ns/net). */
const nsInode = (path: string) => spawnSync('stat', ['-L', '-c', '%i', path], { encoding: 'utf8' }).stdout.trim();

describe.skipIf(skip)('net_namespace (real vrrpd, started in the root namespace)', () => {
  let lab: Lab;
  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error('dist is not built: npm run build');
    if (!daemonAvailable()) throw new Error('dist/cli.js has no `run` command');
    await reapOrphanLabs();
  });
  beforeEach(async () => { lab = await createLab(); });
  afterEach(async () => { await lab?.destroy(); });

  it('adverts, VIPs and notify scripts live in the namespace; the CLI reaches the control socket from the root namespace', async () => {
    const ns = lab.ns('lvs1');
    const marker = join(lab.dir, 'notify-ns.txt');
    const script = join(lab.dir, 'notify.sh');
    writeFileSync(script, `#!/bin/sh\nreadlink /proc/self/ns/net > ${marker}\nip -o -4 addr show dev eth0 >> ${marker}\n`);
    chmodSync(script, 0o755);
    const cfg = parse(labConfig('lvs1')) as { global: Record<string, unknown>; instances: { vi_100: Record<string, unknown> } };
    cfg.global.netNamespace = ns;
    cfg.instances.vi_100.notify = { master: script };
    const path = lab.writeConfig('lvs1', stringify(cfg));
    const vrrp = await capture(lab, 'lvs2', ['-i', 'eth1', 'ip proto 112'], 15);

    // Spawned directly (no `ip netns exec`): the root namespace has no eth1, so only setns lets it start.
    const sock = lab.socketPath('lvs1');
    const child = spawn(process.execPath, [CLI, 'run', '-f', path, '--socket', sock, '--log-level', 'info'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const p = new LabProcess('vrrpd@root->lvs1', 'lvs1', [CLI, 'run'], child);
    lab.procs.add(p);
    const status = async () => {
      const r = await run(process.execPath, [CLI, 'status', '--json', '--socket', sock], { timeoutMs: 10_000, check: false });
      try { return JSON.parse(r.stdout) as { instances: { name: string; state: string }[] }; } catch { return null; }
    };
    const master = await waitFor(async () => {
      if (!p.running) throw new Error(`vrrpd exited ${p.exitCode ?? p.exitSignal}: ${p.tail(true) || p.tail(false)}`);
      return (await status())?.instances.find((i) => i.state === 'MASTER') ?? null;
    }, 15_000, 200, 'vrrpd (in the namespace) to be MASTER').catch((e: Error) => { throw new Error(`${e.message}\n${p.tail(false)}\n${p.tail(true)}`); });
    expect(master.name).toBe('vi_100');

    // The daemon's main thread is in the namespace; the VIP is on the namespace's eth0, not in the root namespace.
    expect(nsInode(`/proc/${child.pid}/ns/net`)).toBe(nsInode(`/run/netns/${ns}`));
    expect(nsInode(`/proc/${child.pid}/ns/net`)).not.toBe(nsInode('/proc/self/ns/net'));
    await waitFor(async () => ((await lab.vipHolders(VIP)).join() === 'lvs1' ? true : null), 3000, 100, 'the VIP on lvs1 eth0');
    const rootAddrs = spawnSync('ip', ['-o', 'addr', 'show'], { encoding: 'utf8' }).stdout;
    expect(rootAddrs).not.toContain(`${VIP}/`);
    // Adverts leave through the namespace's eth1 (seen on the other end of the crossover).
    await vrrp.waitLine((l) => /172\.16\.1\.251 > 224\.0\.0\.18: VRRPv2/.test(l), 5000);
    // The notify script (a child process) ran in the namespace too.
    const got = await waitFor(() => (existsSync(marker) && readFileSync(marker, 'utf8').includes(VIP) ? readFileSync(marker, 'utf8') : null), 5000, 100, 'the notify script');
    expect(got.split('\n')[0]).toBe(`net:[${nsInode(`/run/netns/${ns}`)}]`);

    // A reload may not move the daemon to another namespace.
    cfg.global.netNamespace = lab.ns('lvs2');
    writeFileSync(path, stringify(cfg));
    const r = await run(process.execPath, [CLI, 'reload', '--socket', sock], { timeoutMs: 10_000, check: false });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('global.netNamespace cannot change on reload');
    expect((await status())?.instances[0]?.state).toBe('MASTER');
  });

  it('an unknown namespace refuses to start with the errno', async () => {
    const cfg = parse(labConfig('lvs1')) as { global: Record<string, unknown> };
    cfg.global.netNamespace = `${lab.prefix}-nonexistent`;
    const path = lab.writeConfig('lvs1', stringify(cfg));
    const r = await run(process.execPath, [CLI, 'run', '-f', path, '--socket', lab.socketPath('lvs1')], { timeoutMs: 15_000, check: false });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('cannot enter the network namespace');
    expect(r.stdout + r.stderr).toContain(`ENOENT: no such file or directory, open '/run/netns/${lab.prefix}-nonexistent'`);
  });
});
