// Announce mode in the director, on a fake network and a fake IPVS kernel, on a virtual clock: lb0 created, the VIP on it
// once fit after upDelay, yield moves it to lo and reports the drain, resume, stop removes it, blockers keep it off, reload.
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Writable } from 'node:stream';
import { Director } from '../../src/daemon/director.js';
import { IpvsController } from '../../src/daemon/ipvs.js';
import { IpvsClient } from '../../src/ipvs/client.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { FakeNet } from '../support/fake-net.js';
import { DirectorClock } from '../support/director-clock.js';
import { FakeIpvsKernel } from '../ipvs/fake-ipvs.js';
import { metricsRegistry } from '../../src/daemon/metrics.js';

const log = pino({ level: 'silent' }, new Writable({ write(_c, _e, cb) { cb(); } }));
const running: Director[] = [];
afterEach(async () => { for (const d of running.splice(0)) await d.stop(); });

/** FakeNet with lo and link creation (announce mode makes lb0). */
class AnnounceNet extends FakeNet {
  constructor() {
    super();
    this.links_.unshift({ index: 1, name: 'lo', up: true, running: true, mac: null });
  }
  async createLink(name: string) {
    this.links_.push({ index: 10, name, up: true, running: true, mac: null });
    this.ops.push(`create ${name}`);
  }
  on(ifindex: number, address: string) { return this.addrs.some((a) => a.index === ifindex && a.address === address); }
}

const yaml = (vip = '198.51.100.10') => `ipvs:
  auditInterval: 1s
virtualServers:
  web:
    address: ${vip}
    port: 80
    scheduler: mh
    schedulerFlags: [mh-port]
    inhibitOnFailure: true
    realServers:
      - { address: 10.1.0.21, port: 80 }
announce:
  web:
    vips: [${vip}]
    upDelay: 2s
    drainQuiet: 1s
    stopGrace: 0
    bird: { socket: /nonexistent/bird.ctl }
`;
const config = (text: string): Config => {
  const r = parseConfig(text, 't.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.config;
};

async function start(opts: { blockers?: string[]; prepare?: (n: AnnounceNet) => void } = {}) {
  const clock = new DirectorClock();
  const kernel = new FakeIpvsKernel();
  const net = new AnnounceNet();
  opts.prepare?.(net);
  const d = new Director({
    config: config(yaml()), io: net, log, now: clock.now, makeWaker: clock.makeWaker,
    openIpvs: async (c, l) => IpvsController.open(c, l, await IpvsClient.open({ sys: kernel })),
    applySysctls: () => opts.blockers ?? [],
  });
  running.push(d);
  const t0 = clock.now();
  await d.start();
  return { d, kernel, net, clock, t0 };
}
const group = (d: Director) => d.status().announce![0]!;

describe('announce groups in the director', () => {
  it('creates lb0, announces after upDelay, yield drains onto lo, resume announces, stop removes the VIP', async () => {
    const { d, net, clock, kernel, t0 } = await start();
    expect(net.ops[0]).toBe('create lb0');
    expect(kernel.services.size).toBe(1);
    await clock.until(() => net.on(10, '198.51.100.10'), 10_000, 'VIP on lb0');
    expect(clock.now() - t0).toBeGreaterThanOrEqual(2000);
    await clock.settle();
    expect(group(d)).toMatchObject({ phase: 'announced', fit: true, announced: true, bird: { state: 'unknown' } });
    const m = await metricsRegistry(d).metrics();
    for (const line of ['vrrpd_announce_fit{group="web"} 1', 'vrrpd_announce_announced{group="web"} 1', 'vrrpd_announce_draining{group="web"} 0',
      'vrrpd_announce_bird_up{group="web"} 0']) expect(m).toContain(line);

    const y = d.yield('web', null);
    await clock.until(() => !net.on(10, '198.51.100.10') && net.on(1, '198.51.100.10'), 5000, 'VIP moved to lo');
    expect(group(d)).toMatchObject({ phase: 'draining', held: true, drain: { cause: 'yield' } });
    let res: Awaited<typeof y> | undefined;
    void y.then((r) => { res = r; });
    await clock.until(() => res !== undefined, 10_000, 'drain reported');
    expect(res).toMatchObject([{ instance: 'web', outcome: 'drained' }]);
    expect(net.on(1, '198.51.100.10')).toBe(false); // released from lo
    await clock.advance(10_000);
    expect(group(d)).toMatchObject({ phase: 'withdrawn', held: true, announced: false });

    expect(d.resume('web')).toEqual(['web']);
    await clock.until(() => net.on(10, '198.51.100.10'), 1000, 'announced again at once');

    running.splice(0);
    await d.stop();
    expect(net.on(10, '198.51.100.10') || net.on(1, '198.51.100.10')).toBe(false);
    expect(kernel.services.size).toBe(0);
    const del = net.ops.lastIndexOf('del 198.51.100.10');
    expect(del).toBeGreaterThan(0);
  });

  it('a blocker (a sysctl that cannot be set) keeps the group unfit and withdrawn, and says why', async () => {
    const { d, net, clock } = await start({ blockers: ['net.ipv4.vs.sloppy_tcp is 0, 1 wanted (cannot set it: EROFS)'] });
    await clock.advance(20_000);
    expect(net.on(10, '198.51.100.10')).toBe(false);
    expect(group(d)).toMatchObject({ phase: 'withdrawn', fit: false, why: ['net.ipv4.vs.sloppy_tcp is 0, 1 wanted (cannot set it: EROFS)'] });
  });

  it('a VIP a previous run left on lb0 or lo is removed at start; announced only after upDelay', async () => {
    const { net, clock } = await start({
      prepare: (n) => {
        n.links_.push({ index: 10, name: 'lb0', up: true, running: true, mac: null });
        n.addrs.push({ index: 10, family: 4, address: '198.51.100.10', prefixLen: 32, scope: 0, flags: 0 });
        n.addrs.push({ index: 1, family: 4, address: '198.51.100.10', prefixLen: 32, scope: 0, flags: 0 });
      },
    });
    expect(net.ops.slice(0, 2)).toEqual(['del 198.51.100.10', 'del 198.51.100.10']);
    expect(net.on(10, '198.51.100.10')).toBe(false);
    await clock.until(() => net.on(10, '198.51.100.10'), 10_000, 'announced');
  });

  it('reload with another VIP: the old one is withdrawn and released, the new one announced', async () => {
    const { d, net, clock } = await start();
    await clock.until(() => net.on(10, '198.51.100.10'), 10_000, 'announced');
    await d.reload(config(yaml('198.51.100.20')));
    expect(net.on(10, '198.51.100.10') || net.on(1, '198.51.100.10')).toBe(false);
    await clock.until(() => net.on(10, '198.51.100.20'), 10_000, 'new VIP announced');
    expect(group(d).vips).toEqual(['198.51.100.20/32']);
  });
});

describe('announce VIPs against outside changes', () => {
  it('an announced VIP deleted by hand is added back at the next table read; one added while withdrawn is removed', async () => {
    const { d, net, clock } = await start();
    await clock.until(() => net.on(10, '198.51.100.10'), 10_000, 'announced');
    await net.deleteAddress({ ifindex: 10, address: '198.51.100.10' }); // ip addr del 198.51.100.10/32 dev lb0
    await clock.until(() => net.on(10, '198.51.100.10'), 5000, 'added back (audit every 1 s)');
    void d.yield('web', null);
    await clock.until(() => group(d).phase === 'withdrawn', 10_000, 'drained');
    await net.addAddress({ ifindex: 10, family: 4, address: '198.51.100.10', prefixLen: 32 }); // ip addr add ... dev lb0
    await clock.until(() => !net.on(10, '198.51.100.10'), 5000, 'removed again');
    expect(group(d)).toMatchObject({ phase: 'withdrawn', held: true, error: null });
  });
});
