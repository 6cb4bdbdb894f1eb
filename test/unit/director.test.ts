// The director (the shell) on a fake network and a virtual clock: actions executed, tracking, notify scripts, reload, stop.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Director } from '../../src/daemon/director.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { decodeAdvert, encodeAdvert } from '../../src/protocol/advert.js';
import { addressToBytes } from '../../src/protocol/addr.js';
import { FakeNet } from '../support/fake-net.js';
import { DirectorClock } from '../support/director-clock.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'vrrpd-dir-'));
/** Real time, for the IPVS double's own work only; the director's waits are virtual. */
const realDelay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const running: Director[] = [];
let clock = new DirectorClock();
beforeEach(() => { clock = new DirectorClock(); });
afterEach(async () => { for (const d of running.splice(0)) await d.stop(); });
/** The director on the test's virtual clock. */
const timing = () => ({ now: clock.now, makeWaker: clock.makeWaker });
const sleep = (ms: number) => clock.advance(ms);

function config(instanceYaml: string, top = ''): Config {
  const vips = instanceYaml.includes('vips:') ? '' : '    vips: [ "192.168.1.250/32 dev eth0" ]\n';
  const r = parseConfig(`${top}instances:\n  vi_1:\n    interface: eth1\n    vrid: 1\n    version: 3\n    advertInterval: 10ms\n${vips}${instanceYaml}`, 't.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.config;
}

async function start(cfg: Config, net = new FakeNet()) {
  const d = new Director({ config: cfg, io: net, log, ...timing() });
  running.push(d);
  await d.start();
  return { d, net };
}

function peerAdvert(net: FakeNet, priority: number, src = '172.16.1.252') {
  const payload = encodeAdvert({ version: 3, family: 4, vrid: 1, priority, intervalCs: 1, addresses: ['192.168.1.250'], src, dst: '224.0.0.18' });
  net.inject({ family: 4, payload, src: addressToBytes(src)!, dst: addressToBytes('224.0.0.18')!, ttl: 255 });
}

const waitState = (d: Director, state: string, ms = 2000) =>
  clock.until(() => d.stateOf('vi_1') === state, ms, `vi_1 ${state} (is ${d.stateOf('vi_1')})`);

describe('director', () => {
  it('becomes MASTER alone: adverts on the wire decode, VIPs added, keepalived-style GARP burst', async () => {
    const { d, net } = await start(config(''));
    expect(d.stateOf('vi_1')).toBe('BACKUP');
    await waitState(d, 'MASTER');
    await sleep(30);
    expect(net.holds('192.168.1.250')).toBe(true);
    const first = net.sent[0]!;
    const dec = decodeAdvert(first.payload, { family: 4, src: addressToBytes(first.src)!, dst: addressToBytes(first.dst)!, ttl: 255 });
    expect(dec.ok && dec.advert).toMatchObject({ vrid: 1, priority: 100, intervalCs: 1, addresses: ['192.168.1.250'], checksumForm: 'pseudo-header' });
    expect(first.src).toBe('172.16.1.251'); // the interface's primary address
    expect(net.sent.map((s) => s.ipId).slice(0, 3)).toEqual([1, 2, 3]); // keepalived numbers IP IDs from 1
    expect(net.frames.length).toBe(5); // garp_master_repeat 5, one VIP
    expect(net.frames.every((f) => f.ifindex === 2 && f.frame[21] === 1)).toBe(true); // ARP requests on eth0
  });

  it('the start-up warm-up sends nothing, and the GARP frames it prepares are the ARP requests that go out', async () => {
    const net = new FakeNet();
    const d = new Director({ config: config(''), io: net, log, ...timing() });
    running.push(d);
    await d.start();
    // Started as BACKUP: no frame, no address request yet (the warm-up only built and encoded them).
    expect([net.frames.length, net.ops.filter((o) => o.startsWith('add')).length]).toEqual([0, 0]);
    await waitState(d, 'MASTER');
    await sleep(30);
    const { gratuitousArp } = await import('../../src/protocol/frames.js');
    const want = gratuitousArp(net.links_.find((l) => l.index === 2)!.mac!, '192.168.1.250');
    expect(net.frames.map((f) => Buffer.from(f.frame).toString('hex'))).toEqual(Array(5).fill(Buffer.from(want).toString('hex')));
  });

  it('removes a stale VIP at start, and steps down (VIPs removed) for a higher-priority master', async () => {
    const net = new FakeNet();
    net.addrs.push({ index: 2, family: 4, address: '192.168.1.250', prefixLen: 32, scope: 0, flags: 0 });
    const { d } = await start(config(''), net);
    expect(net.ops[0]).toBe('del 192.168.1.250');
    await waitState(d, 'MASTER');
    peerAdvert(net, 200);
    await waitState(d, 'BACKUP');
    await sleep(10);
    expect(net.holds('192.168.1.250')).toBe(false);
    expect(d.status().instances[0]).toMatchObject({ master: '172.16.1.252', masterPriority: 200, reason: 'higher-priority' });
  });

  it('drops are counted by reason: unknown VRID, bad checksum', async () => {
    const { d, net } = await start(config(''));
    const payload = encodeAdvert({ version: 3, family: 4, vrid: 9, priority: 100, intervalCs: 1, addresses: [], src: '172.16.1.252', dst: '224.0.0.18' });
    net.inject({ family: 4, payload, src: addressToBytes('172.16.1.252')!, dst: addressToBytes('224.0.0.18')!, ttl: 255 });
    const bad = payload.slice(); bad[2] = 1;
    net.inject({ family: 4, payload: bad, src: addressToBytes('172.16.1.252')!, dst: addressToBytes('224.0.0.18')!, ttl: 255 });
    expect(d.status().daemon.drops).toEqual({ 'vrid-not-configured': 1, 'bad-checksum': 1 });
  });

  it('a decoder drop is charged to the instance its VRID names (rxErrors) too; observers hear drops and transitions (SNMP)', async () => {
    const net = new FakeNet();
    const d = new Director({ config: config(''), io: net, log, ...timing() });
    running.push(d);
    const heard: string[] = [];
    d.observe({ transition: (i, from, to, reason) => heard.push(`${i} ${from}>${to} ${reason}`), drop: (r, i) => heard.push(`drop ${r} ${i ?? '-'}`) });
    d.observe({ transition: () => { throw new Error('a broken observer'); } }); // logged, never fatal
    await d.start();
    await waitState(d, 'MASTER');
    const mine = encodeAdvert({ version: 3, family: 4, vrid: 1, priority: 100, intervalCs: 1, addresses: ['192.168.1.250'], src: '172.16.1.252', dst: '224.0.0.18' });
    const other = encodeAdvert({ version: 3, family: 4, vrid: 9, priority: 100, intervalCs: 1, addresses: [], src: '172.16.1.252', dst: '224.0.0.18' });
    const rx = (payload: Uint8Array, ttl = 255) => net.inject({ family: 4, payload, src: addressToBytes('172.16.1.252')!, dst: addressToBytes('224.0.0.18')!, ttl });
    rx(mine, 64);
    const badType = mine.slice(); badType[0] = 0x32;
    rx(badType);
    const badSum = other.slice(); badSum[6] = badSum[6]! ^ 0xff;
    rx(badSum); // VRID 9: no instance to charge
    expect(d.status().instances[0]!.counters.rxErrors).toEqual({ 'bad-ttl': 1, 'bad-type': 1 });
    expect(d.status().daemon.drops).toEqual({ 'bad-ttl': 1, 'bad-type': 1, 'bad-checksum': 1 });
    expect(heard).toEqual(['vi_1 INIT>BACKUP startup', 'vi_1 BACKUP>MASTER no-master', 'drop bad-ttl vi_1', 'drop bad-type vi_1', 'drop bad-checksum -']);
    expect(d.status().instances[0]!.ifindex).toBe((await net.links()).find((l) => l.name === 'eth1')?.index);
  });

  it('a tracked interface going down: priority 0, VIPs released, FAULT; back up: BACKUP then MASTER', async () => {
    const { d, net } = await start(config('    trackInterfaces: [ eth0 ]\n'));
    await waitState(d, 'MASTER');
    net.setLink('eth0', false);
    expect(d.stateOf('vi_1')).toBe('FAULT');
    const last = net.sent.at(-1)!;
    expect(last.payload[2]).toBe(0);
    await sleep(10);
    expect(net.holds('192.168.1.250')).toBe(false);
    net.setLink('eth0', true);
    expect(d.stateOf('vi_1')).toBe('BACKUP');
    await waitState(d, 'MASTER');
  });

  it('runs notify scripts in order with keepalived\'s arguments, and a failing track script means FAULT', async () => {
    const out = join(dir, 'notify.log');
    const flag = join(dir, 'healthy');
    writeFileSync(flag, '');
    const notify = join(dir, 'notify.sh');
    writeFileSync(notify, `#!/bin/sh\necho "$@" >> ${out}\n`);
    const check = join(dir, 'check.sh');
    writeFileSync(check, `#!/bin/sh\ntest -e ${flag}\n`);
    chmodSync(notify, 0o755); chmodSync(check, 0o755);
    const cfg = config(`    trackScripts: [ chk ]\n    notify:\n      master: "${notify} became-master"\n      any: ${notify}\n`,
      `trackScripts:\n  chk: { script: ${check}, interval: 20ms, fall: 2, rise: 1 }\n`);
    const { d } = await start(cfg);
    await waitState(d, 'MASTER');
    await sleep(100);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toEqual(['INSTANCE vi_1 BACKUP 100', 'became-master', 'INSTANCE vi_1 MASTER 100']);
    const { rmSync } = await import('node:fs');
    rmSync(flag);
    await waitState(d, 'FAULT'); // after 2 failures (fall 2)
    expect(d.status().instances[0]!.faults).toEqual(['script chk']);
    writeFileSync(flag, '');
    await waitState(d, 'MASTER');
  });

  it('refuses to start when a notify script does not exist', async () => {
    const d = new Director({ config: config('    notify: { master: /nonexistent/notify.sh }\n'), io: new FakeNet(), log, ...timing() });
    await expect(d.start()).rejects.toThrow(/notify.master: \/nonexistent\/notify.sh does not exist/);
  });

  it('a track file adds value × weight to the priority', async () => {
    const f = join(dir, 'weight');
    writeFileSync(f, '10\n');
    const { d } = await start(config('    trackFiles: [ w ]\n', `trackFiles:\n  w: { file: ${f}, weight: 2 }\n`));
    expect(d.status().instances[0]!.effectivePriority).toBe(120);
    writeFileSync(f, '-5\n');
    await clock.until(() => d.status().instances[0]!.effectivePriority === 90, 1000, 'priority 90 from the track file');
    expect(d.status().instances[0]!.effectivePriority).toBe(90);
  });

  it('reload: unchanged does nothing; a priority change is live; a removed instance sends priority 0 and releases', async () => {
    const base = config('');
    const { d, net } = await start(base);
    await waitState(d, 'MASTER');
    await sleep(20);
    const ops = net.ops.length;
    const frames = net.frames.length;
    expect(await d.reload(base)).toMatchObject({ unchanged: ['vi_1'], updated: [], restarted: [] });
    await sleep(20);
    expect([net.ops.length, net.frames.length, d.stateOf('vi_1')]).toEqual([ops, frames, 'MASTER']); // no VIP churn, no GARP
    const n = net.sent.length;
    expect(await d.reload(config('    priority: 150\n'))).toMatchObject({ updated: ['vi_1'] });
    expect(net.sent[n]!.payload[2]).toBe(150); // advertised at once
    expect(d.stateOf('vi_1')).toBe('MASTER');
    const added = await d.reload(config('    vips: [ "192.168.1.250/32 dev eth0", "192.168.1.249/32 dev eth0" ]\n'));
    expect(added.updated).toEqual(['vi_1']);
    await sleep(20);
    expect(net.holds('192.168.1.249')).toBe(true);
    const empty = parseConfig('instances: {}\n', 'e.yaml');
    if (!empty.ok) throw new Error('bad');
    const m = net.sent.length;
    expect(await d.reload(empty.config)).toMatchObject({ removed: ['vi_1'] });
    expect(net.sent[m]!.payload[2]).toBe(0);
    expect(net.holds('192.168.1.250') || net.holds('192.168.1.249')).toBe(false);
  });

  it('reload with a missing interface is refused and changes nothing', async () => {
    const { d } = await start(config(''));
    await waitState(d, 'MASTER');
    const bad = parseConfig('instances:\n  vi_1:\n    interface: eth9\n    vrid: 1\n', 'b.yaml');
    if (!bad.ok) throw new Error('bad');
    await expect(d.reload(bad.config)).rejects.toThrow(/eth9 does not exist/);
    expect(d.stateOf('vi_1')).toBe('MASTER');
  });

  it('stop: a MASTER sends priority 0 and removes its VIPs', async () => {
    const { d, net } = await start(config(''));
    await waitState(d, 'MASTER');
    await sleep(20);
    running.splice(running.indexOf(d), 1);
    await d.stop();
    expect(net.sent.at(-1)!.payload[2]).toBe(0);
    expect(net.holds('192.168.1.250')).toBe(false);
    expect(existsSync(dir)).toBe(true);
  });
});

describe('metrics', () => {
  it('exposes state, priority, transitions by reason, adverts and drops in Prometheus text', async () => {
    const { metricsRegistry, serveMetrics } = await import('../../src/daemon/metrics.js');
    const { d } = await start(config(''));
    await waitState(d, 'MASTER');
    const reg = metricsRegistry(d);
    const server = await serveMetrics(reg, '127.0.0.1:0');
    const port = (server.address() as { port: number }).port;
    const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const notFound = (await fetch(`http://127.0.0.1:${port}/`)).status;
    server.close();
    expect(notFound).toBe(404);
    expect(body).toMatch(/vrrpd_instance_state\{instance="vi_1",state="MASTER"\} 1/);
    expect(body).toMatch(/vrrpd_instance_state\{instance="vi_1",state="BACKUP"\} 0/);
    expect(body).toMatch(/vrrpd_instance_priority\{instance="vi_1"\} 100/);
    expect(body).toMatch(/vrrpd_transitions_total\{instance="vi_1",from="BACKUP",to="MASTER",reason="no-master"\} 1/);
    expect(body).toMatch(/vrrpd_adverts_sent_total\{instance="vi_1"\} [1-9]/);
    expect(body).toMatch(/vrrpd_drops_total\{reason="bad-checksum"\} 0/);
    expect(body).toMatch(/vrrpd_timer_lateness_seconds\{which="max"\}/);
    expect(body).toMatch(/vrrpd_event_loop_lag_seconds\{quantile="0.99"\}/);
    // Per VRID for the alert rules; Skew_Time of v3 at 10 ms and priority 100: (256 - 100) * 10 / 256 ms.
    expect(body).toMatch(/vrrpd_master\{vrrp_instance="vi_1",vrid="1",family="ipv4",interface="eth1"\} 1/);
    expect(body).toContain(`vrrpd_skew_time_seconds{instance="vi_1"} ${(156 * 10) / 256 / 1000}`);
    expect(body).not.toContain('vrrpd_real_servers'); // without the config getter
  });
});

describe('IPVS follows VRRP', async () => {
  const { IpvsUnavailableError } = await import('../../src/ipvs/genl.js');
  const vs = `virtualServers:\n  fwm-100:\n    fwmark: 100\n    scheduler: wlc\n    persistence: 3600s\n    realServers:\n      - { address: 192.168.1.10, weight: 50 }\n`;

  class FakeIpvs {
    events: string[] = [];
    closed = false;
    constructor(private readonly net: FakeNet, private readonly delayMs = 20) {}
    setConfig() {}
    async sync(states: ReadonlyMap<string, string>) {
      const s = [...states.values()].join(',');
      this.events.push(`sync-start ${s}`);
      await realDelay(this.delayMs);
      this.events.push(`sync-done ${s} ops=${this.net.ops.length}`);
    }
    async refresh() {}
    status() { return { available: true, error: null, syncRole: 'none' as const, services: [] }; }
    async close() { this.closed = true; }
  }

  it('without IPVS in the kernel, an instance with virtual servers stays in FAULT ("IPVS unavailable")', async () => {
    const cfg = config('', vs);
    const net = new FakeNet();
    const d = new Director({ config: cfg, io: net, log, openIpvs: async () => { throw new IpvsUnavailableError(); }, ...timing() });
    running.push(d);
    await d.start();
    await sleep(100);
    expect(d.stateOf('vi_1')).toBe('FAULT');
    const st = d.status();
    expect(st.instances[0]!.faults).toEqual(['IPVS unavailable']);
    expect(st.ipvs).toMatchObject({ available: false });
    expect(net.sent).toHaveLength(0); // never advertises, never takes the VIP
    expect(net.holds('192.168.1.250')).toBe(false);
  });

  it('--no-ipvs runs VRRP only', async () => {
    let opened = false;
    const d = new Director({ config: config('', vs), io: new FakeNet(), log, noIpvs: true, openIpvs: async () => { opened = true; throw new Error('no'); }, ...timing() });
    running.push(d);
    await d.start();
    await waitState(d, 'MASTER');
    expect(opened).toBe(false);
  });

  it('a new MASTER programs IPVS before it adds the VIPs; stop removes the services', async () => {
    const net = new FakeNet();
    const fake = new FakeIpvs(net);
    const d = new Director({ config: config('', vs), io: net, log, openIpvs: async () => fake, ...timing() });
    running.push(d);
    await d.start();
    await waitState(d, 'MASTER');
    await clock.until(() => net.ops.includes('add 192.168.1.250'), 5000, 'the VIP added after the IPVS sync');
    const done = fake.events.find((e) => e.startsWith('sync-done MASTER'));
    expect(done).toBe('sync-done MASTER ops=0'); // IPVS done while no VIP was added yet
    expect(net.ops).toContain('add 192.168.1.250'); // ...and the VIP came right after
    expect(net.frames.length).toBe(5);
    running.splice(running.indexOf(d), 1);
    await d.stop();
    expect(fake.closed).toBe(true);
  });
});

describe('health checks drive the IPVS table', () => {
  it('a real server failing its TCP check is reported unhealthy and IPVS is resynced', async () => {
    const net = await import('node:net');
    // A loopback port that refuses: bind, note the port, close.
    const port = await new Promise<number>((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => res(p)); }); });
    const vs = `virtualServers:\n  web:\n    address: 192.168.1.250\n    port: 80\n    forwarding: nat\n    delayLoop: 100ms\n    realServers:\n      - address: 127.0.0.1\n        port: ${port}\n        check: { type: tcp, connectTimeout: 200ms, retries: 0 }\n`;
    let health: ((s: string, rs: { address: string; port: number }) => boolean) | null = null;
    let syncs = 0;
    let changes = 0;
    /** healthChanged() calls seen by each sync: the controller must know of a change before its sync runs. */
    const changesAtSync: number[] = [];
    const fake = {
      setConfig() {}, setHealth(fn: typeof health) { health = fn; }, async sync() { syncs++; changesAtSync.push(changes); }, async refresh() {},
      healthChanged() { changes++; },
      status() { return { available: true, error: null, syncRole: 'none' as const, services: [] }; }, async close() {},
    };
    const d = new Director({ config: config('', vs), io: new FakeNet(), log, openIpvs: async () => fake, ...timing() });
    running.push(d);
    await d.start();
    expect(health).not.toBeNull();
    let whileHealthy = syncs;
    await clock.until(() => {
      if (health!('web', { address: '127.0.0.1', port })) whileHealthy = syncs;
      return !health!('web', { address: '127.0.0.1', port });
    }, 5000, 'the check failing');
    expect(health!('web', { address: '127.0.0.1', port })).toBe(false);
    await sleep(20);
    expect(syncs).toBeGreaterThan(whileHealthy); // the change triggered a resync of the table
    expect(changesAtSync[0]).toBe(0);
    expect(changesAtSync.at(-1)).toBeGreaterThan(0); // told before that resync (IpvsController's health generation)
    expect(d.status().ipvs?.checks?.[0]).toMatchObject({ service: 'web', address: '127.0.0.1', port, healthy: false });
  });
});
