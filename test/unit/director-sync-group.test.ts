// Sync groups in the director (fake network, virtual clock): members move together, group notify, status.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Director } from '../../src/daemon/director.js';
import { parseConfig } from '../../src/config/load.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { addressToBytes } from '../../src/protocol/addr.js';
import { FakeNet } from '../support/fake-net.js';
import { DirectorClock } from '../support/director-clock.js';

const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'vrrpd-sg-'));
let clock = new DirectorClock();
const running: Director[] = [];
beforeEach(() => { clock = new DirectorClock(); });
afterEach(async () => { for (const d of running.splice(0)) await d.stop(); });

const notifyLog = join(dir, 'group.log');
const notify = join(dir, 'group.sh');
writeFileSync(notify, `#!/bin/sh\necho "$@" >> ${notifyLog}\n`);
chmodSync(notify, 0o755);

/** The LVS-NAT pair's director: the public VIP (vi_pub) and the real servers' gateway (vi_gw) in one group. */
function lvsNat(extra = '') {
  const r = parseConfig(`instances:
  vi_pub:
    interface: eth1
    vrid: 51
    version: 3
    advertInterval: 10ms
    vips: [ "192.168.1.250/32 dev eth0" ]
    trackInterfaces: [ eth0 ]
  vi_gw:
    interface: eth1
    vrid: 52
    version: 3
    advertInterval: 10ms
    vips: [ "10.1.0.254/24 dev eth1" ]
syncGroups:
  lvs:
    instances: [ vi_pub, vi_gw ]
    notify: { any: ${notify} }
${extra}`, 'sg.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.config;
}

async function start(net = new FakeNet()) {
  const d = new Director({ config: lvsNat(), io: net, log, now: clock.now, makeWaker: clock.makeWaker });
  running.push(d);
  await d.start();
  return { d, net };
}

function peerAdvert(net: FakeNet, vrid: number, priority: number, addresses: string[]) {
  const src = '172.16.1.252';
  const payload = encodeAdvert({ version: 3, family: 4, vrid, priority, intervalCs: 1, addresses, src, dst: '224.0.0.18' });
  net.inject({ family: 4, payload, src: addressToBytes(src)!, dst: addressToBytes('224.0.0.18')!, ttl: 255 });
}

const states = (d: Director) => [d.stateOf('vi_pub'), d.stateOf('vi_gw')];

describe('sync group in the director', () => {
  it('both members become MASTER together and hold both VIPs; status shows the group', async () => {
    writeFileSync(notifyLog, '');
    const { d, net } = await start();
    await clock.until(() => states(d).every((s) => s === 'MASTER'), 2000, 'both MASTER');
    await clock.advance(20);
    expect(net.holds('192.168.1.250') && net.holds('10.1.0.254')).toBe(true);
    const st = d.status();
    expect(st.syncGroups).toEqual([{ name: 'lvs', state: 'MASTER', members: [
      { name: 'vi_pub', state: 'MASTER', wantsMaster: false, faults: [] },
      { name: 'vi_gw', state: 'MASTER', wantsMaster: false, faults: [] }] }]);
    expect(st.instances.map((i) => i.syncGroup)).toEqual(['lvs', 'lvs']);
    await clock.until(() => readFileSync(notifyLog, 'utf8').includes('GROUP lvs MASTER 0'), 1000, 'group notify');
    expect(readFileSync(notifyLog, 'utf8').trim().split('\n')).toEqual(['GROUP lvs BACKUP 0', 'GROUP lvs MASTER 0']);
  });

  it('a higher-priority master on one member takes the other to BACKUP too', async () => {
    const { d, net } = await start();
    await clock.until(() => states(d).every((s) => s === 'MASTER'), 2000, 'both MASTER');
    peerAdvert(net, 52, 200, ['10.1.0.254']); // the gateway instance only
    expect(states(d)).toEqual(['BACKUP', 'BACKUP']);
    await clock.advance(5);
    expect(net.holds('192.168.1.250') || net.holds('10.1.0.254')).toBe(false);
    // vi_pub's peer is silent, but vi_pub does not become MASTER alone: it waits for the group.
    for (let i = 0; i < 5; i++) {
      peerAdvert(net, 52, 200, ['10.1.0.254']);
      await clock.advance(10);
    }
    expect(states(d)).toEqual(['BACKUP', 'BACKUP']);
    expect(d.status().instances[0]).toMatchObject({ name: 'vi_pub', state: 'BACKUP', wantsMaster: true });
    // The gateway's master goes silent: both become MASTER again, together.
    await clock.until(() => states(d).every((s) => s === 'MASTER'), 2000, 'both MASTER again');
  });

  it('one member FAULT (its tracked eth0 down): the other goes FAULT too, priority 0 from both', async () => {
    const { d, net } = await start();
    await clock.until(() => states(d).every((s) => s === 'MASTER'), 2000, 'both MASTER');
    const n = net.sent.length;
    net.setLink('eth0', false);
    expect(states(d)).toEqual(['FAULT', 'FAULT']);
    const zero = net.sent.slice(n).filter((p) => p.payload[2] === 0).map((p) => p.payload[1]);
    expect(zero.sort()).toEqual([51, 52]);
    expect(d.status().instances[1]!.faults).toEqual(['sync group lvs']);
    net.setLink('eth0', true);
    await clock.until(() => states(d).every((s) => s === 'MASTER'), 2000, 'both MASTER after the fault');
  });
});
