// The IPVS audit on the director's clock: services and the sync daemon removed or altered from outside are restored; nothing sent when unchanged.
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { Writable } from 'node:stream';
import { Director } from '../../src/daemon/director.js';
import { IpvsController } from '../../src/daemon/ipvs.js';
import { IpvsClient } from '../../src/ipvs/client.js';
import { parseConfig } from '../../src/config/load.js';
import { FakeNet } from '../support/fake-net.js';
import { DirectorClock } from '../support/director-clock.js';
import { FakeIpvsKernel } from '../ipvs/fake-ipvs.js';

let lines: Record<string, unknown>[] = [];
const log = pino({ level: 'info' }, new Writable({ write(c, _e, cb) { lines.push(JSON.parse(String(c))); cb(); } }));
const running: Director[] = [];
afterEach(async () => { for (const d of running.splice(0)) await d.stop(); lines = []; });

const yaml = (audit: string) => `ipvs:\n  auditInterval: ${audit}\n  syncDaemon: { interface: eth1, syncId: 7 }\n`
  + 'instances:\n  vi_1:\n    interface: eth1\n    vrid: 1\n    version: 3\n    advertInterval: 10ms\n    vips: [ "192.168.1.250/32 dev eth0" ]\n'
  + 'virtualServers:\n  web:\n    address: 192.168.1.250\n    port: 80\n    forwarding: nat\n    realServers:\n'
  + '      - { address: 10.0.0.1, port: 80, weight: 3 }\n      - { address: 10.0.0.2, port: 80 }\n';

async function start(audit = '2s') {
  const r = parseConfig(yaml(audit), 't.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  const clock = new DirectorClock();
  const kernel = new FakeIpvsKernel();
  const net = new FakeNet();
  const d = new Director({
    config: r.config, io: net, log, now: clock.now, makeWaker: clock.makeWaker,
    openIpvs: async (c, l) => IpvsController.open(c, l, await IpvsClient.open({ sys: kernel })),
  });
  running.push(d);
  await d.start();
  await clock.until(() => d.stateOf('vi_1') === 'MASTER' && kernel.services.size === 1 && kernel.daemons.length === 1, 5000, 'MASTER with its service');
  return { d, kernel, clock, net };
}

const weights = (k: FakeIpvsKernel) => [...[...k.services.values()][0]!.dests.values()].map((x) => x.weight).sort();

describe('IPVS audit (ipvs.auditInterval)', () => {
  it('ipvsadm -C on the MASTER: the table is back at the next audit; the stopped sync daemon too', async () => {
    const { d, kernel, clock } = await start();
    await clock.advance(2100);
    const before = kernel.writes.length;
    await clock.advance(4000); // two audits with nothing changed: reads only
    expect(kernel.writes.length).toBe(before);
    expect(kernel.commands.filter((c) => c === 'GET_SERVICE').length).toBeGreaterThan(0);
    kernel.services.clear(); // ipvsadm -C
    kernel.daemons = []; // ipvsadm --stop-daemon master
    await clock.advance(2100);
    await clock.settle();
    expect(kernel.services.size).toBe(1);
    expect(weights(kernel)).toEqual([1, 3]);
    expect(kernel.daemons).toMatchObject([{ state: 1, ifn: 'eth1', syncid: 7 }]);
    expect(lines.some((l) => String(l.msg).startsWith('IPVS table altered from outside'))).toBe(true);
    expect(lines.some((l) => String(l.msg).startsWith('IPVS sync daemon stopped or altered from outside'))).toBe(true);
    expect(d.status().ipvs?.restores).toBe(2);
  });

  it('ipvsadm -e (a weight changed) and -d (a real server deleted) are undone', async () => {
    const { kernel, clock } = await start('500ms');
    const svc = [...kernel.services.values()][0]!;
    for (const x of svc.dests.values()) x.weight = 9; // -e
    svc.dests.delete([...svc.dests.keys()][0]!); // -d
    await clock.advance(600);
    await clock.settle();
    expect(weights(kernel)).toEqual([1, 3]);
  });

  it('auditInterval 0: never read back', async () => {
    const { kernel, clock } = await start('0');
    await clock.advance(500); // the start's own sync finishes
    const gets = kernel.commands.length;
    kernel.services.clear();
    await clock.advance(5000);
    expect(kernel.services.size).toBe(0);
    expect(kernel.commands.slice(gets)).toEqual([]);
  });
});

describe('an audit right after a takeover', () => {
  it('a table changed behind a BACKUP (onBackup: keep) is restored right after it takes over, not at the next audit', async () => {
    const { d, kernel, clock, net } = await start('60s');
    await clock.advance(500);
    await clock.settle();
    expect(kernel.services.size).toBe(1);
    // A higher-priority master appears once: BACKUP (the services stay: keep), then silent: a takeover ~36 ms later.
    const { encodeAdvert } = await import('../../src/protocol/advert.js');
    const { addressToBytes } = await import('../../src/protocol/addr.js');
    const payload = encodeAdvert({ version: 3, family: 4, vrid: 1, priority: 200, intervalCs: 1, addresses: ['192.168.1.250'], src: '172.16.1.252', dst: '224.0.0.18' });
    net.inject({ family: 4, payload, src: addressToBytes('172.16.1.252')!, dst: addressToBytes('224.0.0.18')!, ttl: 255 });
    await clock.until(() => d.stateOf('vi_1') === 'BACKUP', 1000, 'BACKUP');
    kernel.services.clear(); // ipvsadm -C behind the BACKUP's back
    await clock.until(() => d.stateOf('vi_1') === 'MASTER', 1000, 'MASTER again');
    await clock.advance(300);
    await clock.settle();
    // The next periodic audit is a minute away: only the audit that follows the takeover can have put it back.
    expect(kernel.services.size).toBe(1);
    expect(weights(kernel)).toEqual([1, 3]);
  });
});

describe('audit pacing (nextAuditAt)', () => {
  it('a quick audit keeps ipvs.auditInterval; a long one waits until audits are at most 5 % of the time', async () => {
    const { nextAuditAt } = await import('../../src/daemon/services.js');
    expect(nextAuditAt(1000, 1010, 2000)).toBe(3000); // 10 ms: the interval rules
    expect(nextAuditAt(1000, 1100, 2000)).toBe(3000); // 100 ms: 1.9 s after it ends = 3000 as well
    expect(nextAuditAt(1000, 1500, 2000)).toBe(11_000); // 500 ms: 9.5 s after it ends
    expect(nextAuditAt(1000, 4000, 2000)).toBe(61_000); // 3 s (the big table in the VM): a minute apart
    expect(nextAuditAt(1000, 900, 2000)).toBe(3000); // a clock that went backwards counts as instant
  });
});
