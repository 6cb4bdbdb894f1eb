// Redundant advert paths (instance extraPaths) in the director, on a fake network and a virtual clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Director } from '../../src/daemon/director.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { decodeAdvert, encodeAdvert } from '../../src/protocol/advert.js';
import { addressToBytes } from '../../src/protocol/addr.js';
import { FakeNet } from '../support/fake-net.js';
import { DirectorClock } from '../support/director-clock.js';

const log = pino({ level: 'silent' });
const running: Director[] = [];
let clock = new DirectorClock();
beforeEach(() => { clock = new DirectorClock(); });
afterEach(async () => { for (const d of running.splice(0)) await d.stop(); });
const timing = () => ({ now: clock.now, makeWaker: clock.makeWaker });
const ETH0 = 2;
const ETH1 = 3;
const PEER_LAN = '192.168.1.252';
const PEER_XOVER = '172.16.1.252';

/** VRRP on eth1 (the crossover), an extra path on eth0 to the peer's LAN address; 100 ms adverts. */
function config(more = ''): Config {
  const r = parseConfig(`instances:
  vi_1:
    interface: eth1
    vrid: 1
    version: 3
    priority: 100
    advertInterval: 100ms
    vips: [ "192.168.1.250/32 dev eth0" ]
    extraPaths: [ { interface: eth0, peer: ${PEER_LAN} } ]
${more}`, 't.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.config;
}

async function start(cfg: Config, net = new FakeNet()) {
  const d = new Director({ config: cfg, io: net, log, ...timing() });
  running.push(d);
  await d.start();
  return { d, net };
}

/** The peer's advert on the crossover (multicast) or on the extra path (unicast to our LAN address). */
function advert(net: FakeNet, priority: number, path: 'xover' | 'lan', src = path === 'xover' ? PEER_XOVER : PEER_LAN, ttl = 255) {
  const dst = path === 'xover' ? '224.0.0.18' : '192.168.1.251';
  const payload = encodeAdvert({ version: 3, family: 4, vrid: 1, priority, intervalCs: 10, addresses: ['192.168.1.250'], src, dst });
  net.inject({ family: 4, payload, src: addressToBytes(src)!, dst: addressToBytes(dst)!, ttl, ifindex: path === 'xover' ? ETH1 : ETH0 });
}

/** Feed the peer's adverts every 100 ms on the given path for `ms`, checking the state after each. */
async function feed(d: Director, net: FakeNet, path: 'xover' | 'lan' | 'none', ms: number, priority = 200): Promise<string[]> {
  const seen = new Set<string>();
  for (let t = 0; t < ms; t += 100) {
    if (path !== 'none') advert(net, priority, path);
    await clock.advance(100);
    seen.add(d.stateOf('vi_1')!);
  }
  return [...seen];
}

describe('redundant advert paths', () => {
  it('a socket on each path; every advert leaves on the primary (multicast) and unicast to the peer on the extra path', async () => {
    const { d, net } = await start(config());
    expect(net.vrrpOn.sort()).toEqual([ETH0, ETH1]);
    await clock.until(() => d.stateOf('vi_1') === 'MASTER', 2000, 'MASTER');
    await clock.advance(350);
    const xover = net.sent.filter((s) => s.ifindex === ETH1);
    const lan = net.sent.filter((s) => s.ifindex === ETH0);
    expect(xover.length).toBeGreaterThanOrEqual(3);
    expect(lan.length).toBe(xover.length);
    expect(xover.every((s) => s.src === '172.16.1.251' && s.dst === '224.0.0.18')).toBe(true);
    expect(lan.every((s) => s.src === '192.168.1.251' && s.dst === PEER_LAN)).toBe(true);
    // The unicast copy's checksum covers its own pseudo-header (src/dst on that link): it decodes.
    const l = lan[0]!;
    const dec = decodeAdvert(l.payload, { family: 4, src: addressToBytes(l.src)!, dst: addressToBytes(l.dst)!, ttl: 255 });
    expect(dec.ok && dec.advert.priority).toBe(100);
    // The same advert (same IP ID) on both paths.
    expect(lan.map((s) => s.ipId)).toEqual(xover.map((s) => s.ipId));
  });

  it('an advert on ANY path resets the Master_Down_Timer: only the silence of every path is a dead master', async () => {
    const { d, net } = await start(config());
    expect(await feed(d, net, 'xover', 1000)).toEqual(['BACKUP']);
    // The crossover falls silent; the extra path alone keeps the master alive (TTL of a unicast copy is not checked).
    expect(await feed(d, net, 'lan', 2000)).toEqual(['BACKUP']);
    expect(d.status().instances[0]!.master).toBe(PEER_LAN);
    // Back and forth between paths: still no takeover.
    for (let i = 0; i < 5; i++) {
      expect(await feed(d, net, i % 2 ? 'lan' : 'xover', 200)).toEqual(['BACKUP']);
    }
    // Every path silent: Master_Down_Interval (3 × 100 ms + skew) later we are MASTER.
    const seen = await feed(d, net, 'none', 500);
    expect(seen).toContain('MASTER');
    expect(d.status().instances[0]!.reason).toBe('master-silent');
  });

  it('without extraPaths the same LAN advert is not ours: the backup takes over', async () => {
    const r = parseConfig(`instances:
  vi_1:
    interface: eth1
    vrid: 1
    version: 3
    advertInterval: 100ms
    vips: [ "192.168.1.250/32 dev eth0" ]
`, 't.yaml');
    if (!r.ok) throw new Error('config');
    const { d, net } = await start(r.config);
    expect(net.vrrpOn).toEqual([ETH1]);
    expect(await feed(d, net, 'xover', 600)).toEqual(['BACKUP']);
    expect(await feed(d, net, 'lan', 600)).toContain('MASTER'); // delivered on eth0: no socket there, nobody hears it
  });

  it('on an extra path only the named peer counts; others are dropped by reason', async () => {
    const { d, net } = await start(config());
    expect(await feed(d, net, 'xover', 500)).toEqual(['BACKUP']);
    for (let t = 0; t < 600; t += 100) {
      advert(net, 200, 'lan', '192.168.1.99'); // not the configured peer
      await clock.advance(100);
    }
    expect(d.stateOf('vi_1')).toBe('MASTER');
    expect(d.drops['not-path-peer']).toBe(6);
  });

  it('equal priorities over the extra path: the tie-break compares the addresses on that link (RFC 5798 §6.4.3)', async () => {
    const { d, net } = await start(config());
    await clock.until(() => d.stateOf('vi_1') === 'MASTER', 2000, 'MASTER');
    advert(net, 100, 'lan', '192.168.1.10'); // lower LAN address than ours (.251): we stay MASTER
    await clock.advance(10);
    expect(d.stateOf('vi_1')).toBe('MASTER');
    expect(d.drops['not-path-peer']).toBe(1); // and it is not the peer anyway
    advert(net, 100, 'lan'); // the peer at .252 > .251: it wins the tie
    await clock.advance(10);
    expect(d.stateOf('vi_1')).toBe('BACKUP');
    expect(d.status().instances[0]!.reason).toBe('equal-priority-greater-address');
  });

  it('carrier: the primary interface down FAULTs only while every extra path link is down too; trackInterfaces still FAULT', async () => {
    const { d, net } = await start(config());
    expect(await feed(d, net, 'xover', 500)).toEqual(['BACKUP']);
    net.setLink('eth1', false); // the crossover cut
    expect(await feed(d, net, 'lan', 1000)).toEqual(['BACKUP']);
    net.setLink('eth0', false); // and the LAN: no path left
    await clock.advance(10);
    expect(d.stateOf('vi_1')).toBe('FAULT');
    net.setLink('eth0', true);
    await clock.advance(10);
    expect(d.stateOf('vi_1')).toBe('BACKUP');
    net.setLink('eth1', true);

    // trackInterfaces: eth0 tracked explicitly still FAULTs on its own.
    const t = await start(config('    trackInterfaces: [ eth0 ]\n'));
    await clock.until(() => t.d.stateOf('vi_1') === 'MASTER', 2000, 'MASTER');
    t.net.setLink('eth1', false);
    await clock.advance(300);
    expect(t.d.stateOf('vi_1')).toBe('MASTER');
    t.net.setLink('eth0', false);
    await clock.advance(10);
    expect(t.d.stateOf('vi_1')).toBe('FAULT');
  });
});

describe('extraPaths config checks', () => {
  const bad = (paths: string, fam = '') => {
    const r = parseConfig(`instances:
  vi_1:
    interface: eth1
    vrid: 1
    version: 3
    advertInterval: 100ms
${fam}    extraPaths: ${paths}
  vi_2:
    interface: eth0
    vrid: 2
    version: 3
`, 't.yaml');
    return r.ok ? [] : r.errors.map((e) => e.message);
  };
  it('refuses the primary interface, a second path on one link, a peer of the other family, a VRID clash on that link', () => {
    expect(bad('[ { interface: eth0, peer: 192.168.1.252 } ]')).toEqual([]);
    expect(bad('[ { interface: eth1, peer: 192.168.1.252 } ]').join()).toMatch(/own interface/);
    expect(bad('[ { interface: eth0, peer: 192.168.1.252 }, { interface: eth0, peer: 192.168.1.253 } ]').join()).toMatch(/second extra path/);
    expect(bad('[ { interface: eth0, peer: "fe80::2" } ]').join()).toMatch(/IPv6 peer for an IPv4 instance/);
    expect(bad('[ { interface: eth0, peer: 192.168.1.252 } ]').join()).not.toMatch(/already used/);
    const clash = parseConfig(`instances:
  vi_1: { interface: eth1, vrid: 2, version: 3, advertInterval: 100ms, extraPaths: [ { interface: eth0, peer: 192.168.1.252 } ] }
  vi_2: { interface: eth0, vrid: 2, version: 3 }
`, 't.yaml');
    expect(clash.ok).toBe(false);
    expect(!clash.ok && clash.errors.map((e) => e.message).join()).toMatch(/VRID 2 on eth0 \(IPv4\) is already used by instance "vi_2"/);
  });
});
