// A standalone director (virtual servers, no VRRP instance): an ldirectord.cf run by the director on a fake IPVS kernel.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Director } from '../../src/daemon/director.js';
import { IpvsController } from '../../src/daemon/ipvs.js';
import { IpvsClient } from '../../src/ipvs/client.js';
import { loadAnyConfig, formatIssue } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { FakeNet } from '../support/fake-net.js';
import { FakeIpvsKernel } from '../ipvs/fake-ipvs.js';

const log = pino({ level: 'silent' });
const TMP = mkdtempSync(join(tmpdir(), 'vrrpd-standalone-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { server, port: (server.address() as { port: number }).port };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function ldirectord(text: string): Promise<Config> {
  const f = join(TMP, `${Math.random().toString(36).slice(2)}.cf`);
  writeFileSync(f, text);
  const r = await loadAnyConfig(f, { format: 'ldirectord' });
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'));
  return r.config;
}

async function run(cfg: Config, kernel: FakeIpvsKernel): Promise<Director> {
  const d = new Director({ config: cfg, io: new FakeNet(), log, openIpvs: async (c, l) => IpvsController.open(c, l, await IpvsClient.open({ sys: kernel })) });
  await d.start();
  cleanup.push(() => d.stop());
  return d;
}

/** The fake kernel's table: "service -> dest:port weight" lines. */
const table = (k: FakeIpvsKernel) => [...k.services.values()].flatMap((s) =>
  [...s.dests.values()].map((d) => `${s.port} -> ${[...d.addr.slice(0, 4)].join('.')}:${d.port} w${d.weight}`)).sort();

const until = async (cond: () => boolean, ms = 3000) => {
  for (let t = 0; t < ms && !cond(); t += 10) await sleep(10);
  return cond();
};

describe('standalone director (no VRRP instance)', () => {
  it('programs its services at start, never a sync daemon; a server enters after its first passing check (alpha)', async () => {
    const up = await listen();
    const down = await closedPort();
    const cfg = await ldirectord(`checkinterval=1\nchecktimeout=1\nvirtual=192.0.2.10:80\n\treal=127.0.0.1:${up.port} masq 3\n\treal=127.0.0.1:${down} masq 2\n\tchecktype=connect\n\tscheduler=wrr\n`);
    expect(cfg.instances).toEqual({});
    const kernel = new FakeIpvsKernel();
    const d = await run(cfg, kernel);
    // The service is there at once, before any check has passed (alpha: no server yet).
    expect(kernel.services.size).toBe(1);
    expect([...kernel.services.values()][0]).toMatchObject({ port: 80, sched: 'wrr' });
    expect(await until(() => table(kernel).length === 1)).toBe(true);
    expect(table(kernel)).toEqual([`80 -> 127.0.0.1:${up.port} w3`]);
    await sleep(300);
    expect(table(kernel)).toEqual([`80 -> 127.0.0.1:${up.port} w3`]); // the closed one never enters
    expect(kernel.daemons).toEqual([]); // no VRRP, no connection sync
    expect(d.status().ipvs).toMatchObject({ available: true, syncRole: 'none' });
    await d.stop();
    cleanup.pop();
    expect(kernel.services.size).toBe(0); // cleanstop: services removed
  });

  it('quiescent = yes: a server whose check starts failing stays at weight 0', async () => {
    const up = await listen();
    const cfg = await ldirectord(`checkinterval=1\nchecktimeout=1\nquiescent=yes\nvirtual=192.0.2.10:80\n\treal=127.0.0.1:${up.port} masq 5\n\tchecktype=connect\n`);
    const kernel = new FakeIpvsKernel();
    await run(cfg, kernel);
    expect(await until(() => table(kernel).join() === `80 -> 127.0.0.1:${up.port} w5`)).toBe(true);
    await new Promise<void>((r) => up.server.close(() => r()));
    expect(await until(() => table(kernel).join() === `80 -> 127.0.0.1:${up.port} w0`, 5000)).toBe(true);
  });

  it('with a sync daemon configured but no instance, none is started', async () => {
    const cfg = await ldirectord('virtual=192.0.2.10:80\n\treal=192.0.2.20:80 gate\n\tchecktype=on\n');
    const withDaemon: Config = { ...cfg, ipvs: { ...cfg.ipvs, syncDaemon: { interface: 'eth1', syncId: 7 } as NonNullable<Config['ipvs']['syncDaemon']> } };
    const kernel = new FakeIpvsKernel();
    await run(withDaemon, kernel);
    expect(table(kernel)).toEqual(['80 -> 192.0.2.20:80 w1']);
    expect(kernel.daemons).toEqual([]);
  });

  it('without IPVS in the kernel a standalone director refuses to start', async () => {
    const cfg = await ldirectord('virtual=192.0.2.10:80\n\treal=192.0.2.20:80 gate\n\tchecktype=on\n');
    const kernel = new FakeIpvsKernel();
    kernel.ipvs = false;
    const d = new Director({ config: cfg, io: new FakeNet(), log, openIpvs: async (c, l) => IpvsController.open(c, l, await IpvsClient.open({ sys: kernel })) });
    await expect(d.start()).rejects.toThrow(/standalone director/);
  });
});
