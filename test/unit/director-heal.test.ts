// The director's address watch on a fake network: VIPs deleted behind a MASTER's back come back, strays on a BACKUP go.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Writable } from 'node:stream';
import { Director } from '../../src/daemon/director.js';
import { describeSender } from '../../src/daemon/addresses.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { addressToBytes } from '../../src/protocol/addr.js';
import { FakeNet } from '../support/fake-net.js';
import { DirectorClock } from '../support/director-clock.js';

let lines: Record<string, unknown>[] = [];
const log = pino({ level: 'info' }, new Writable({ write(c, _e, cb) { lines.push(JSON.parse(String(c))); cb(); } }));
const running: Director[] = [];
let clock = new DirectorClock();
beforeEach(() => { clock = new DirectorClock(); lines = []; });
afterEach(async () => { for (const d of running.splice(0)) await d.stop(); });

function config(priority = 100): Config {
  const r = parseConfig(`instances:\n  vi_1:\n    interface: eth1\n    vrid: 1\n    version: 3\n    priority: ${priority}\n    advertInterval: 10ms\n`
    + '    vips: [ "192.168.1.250/32 dev eth0", "192.168.1.249/32 dev eth0" ]\n', 't.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.config;
}

async function start(cfg: Config) {
  const net = new FakeNet();
  const d = new Director({ config: cfg, io: net, log, now: clock.now, makeWaker: clock.makeWaker });
  running.push(d);
  await d.start();
  return { d, net };
}

function peerAdvert(net: FakeNet, priority: number) {
  const src = '172.16.1.252';
  const payload = encodeAdvert({ version: 3, family: 4, vrid: 1, priority, intervalCs: 1, addresses: ['192.168.1.250', '192.168.1.249'], src, dst: '224.0.0.18' });
  net.inject({ family: 4, payload, src: addressToBytes(src)!, dst: addressToBytes('224.0.0.18')!, ttl: 255 });
}

const counters = (d: Director) => d.status().instances[0]!.counters as Record<string, number>;
const healLogs = () => lines.filter((l) => typeof l.msg === 'string' && (l.msg as string).includes('by someone else'));

describe('director: VIPs that heal themselves', () => {
  it('MASTER: a VIP deleted from outside is put back with a GARP burst, logged once, counted; our own requests are not "outside"', async () => {
    const { d, net } = await start(config());
    await clock.until(() => d.stateOf('vi_1') === 'MASTER', 2000, 'MASTER');
    await clock.advance(50);
    expect(net.holds('192.168.1.250') && net.holds('192.168.1.249')).toBe(true);
    expect(counters(d)).toMatchObject({ vipRestores: 0, vipRemovals: 0 }); // our own adds were expected
    const frames = net.frames.length;
    net.externalDelete('192.168.1.250');
    net.externalDelete('192.168.1.249');
    await clock.settle();
    expect(net.holds('192.168.1.250') && net.holds('192.168.1.249')).toBe(true);
    expect(net.frames.length - frames).toBe(10); // 5 rounds over both VIPs (garp.masterRepeat)
    expect(counters(d).vipRestores).toBe(1); // one incident, both addresses in one batch
    const logged = healLogs();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 40, instance: 'vi_1', heal: 'restored' });
    expect(logged[0]!.vips).toEqual(['192.168.1.250', '192.168.1.249']);
    expect(String(logged[0]!.seen)).toMatch(/RTM_DELADDR ifindex 2 \(eth0\) 192\.168\.1\.250\/32; netlink port 4242/);
    await clock.advance(200);
    expect(counters(d).vipRestores).toBe(1); // our own re-adds did not count as a second incident
    expect(d.stateOf('vi_1')).toBe('MASTER');
  });

  it('BACKUP: our VIP added from outside is removed and counted', async () => {
    const { d, net } = await start(config(90));
    await clock.advance(5);
    peerAdvert(net, 200);
    await clock.advance(5);
    expect(d.stateOf('vi_1')).toBe('BACKUP');
    net.externalAdd('192.168.1.250');
    await clock.settle();
    expect(net.holds('192.168.1.250')).toBe(false);
    expect(counters(d).vipRemovals).toBe(1);
    expect(healLogs()[0]).toMatchObject({ heal: 'removed', vips: ['192.168.1.250'] });
    // An address that is not ours is left alone.
    net.externalAdd('192.168.1.7');
    await clock.settle();
    expect(net.holds('192.168.1.7')).toBe(true);
    expect(counters(d).vipRemovals).toBe(1);
  });

  it('an interface that comes back up without the VIPs (the kernel drops IPv6 on down) gets them back', async () => {
    const { d, net } = await start(config());
    await clock.until(() => d.stateOf('vi_1') === 'MASTER', 2000, 'MASTER');
    await clock.advance(50);
    net.setLink('eth0', false); // eth0 carries the VIPs but is not tracked: no FAULT
    net.addrs = net.addrs.filter((a) => a.index !== 2 || a.address === '192.168.1.251'); // gone without a notification
    net.setLink('eth0', true);
    await clock.settle();
    await clock.settle();
    expect(net.holds('192.168.1.250') && net.holds('192.168.1.249')).toBe(true);
    expect(String(healLogs()[0]?.seen)).toMatch(/interface eth0 came back up/);
  });

  it('describes the sender: IPv4 port ids are looked up as pids, IPv6 has none', () => {
    expect(describeSender(process.pid, 4)).toMatch(new RegExp(`netlink port ${process.pid} \\(pid ${process.pid} is "`));
    expect(describeSender(0, 6)).toMatch(/no port id for IPv6/);
    expect(describeSender(0, 4)).toMatch(/port id 0/);
  });
});
