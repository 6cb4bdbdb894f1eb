// Junk on the wire: a third host floods the VRRP segment (random bytes, bad checksums, every VRID, forged priorities, truncations); nothing flaps.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createLab, daemonAvailable, labSupported, reapOrphanLabs, CLI, LAN, REPO_ROOT,
  type DirectorName, type Lab,
} from '../../src/lab/topology.js';
import { inst, up } from './helpers.js';

const skip = !labSupported().ok;
const FLOOD = join(REPO_ROOT, 'scripts', 'vrrp-flood.py');
const FLOOD_SECONDS = 15;
const FLOOD_PPS = 50_000;
/**
 * The advert interval under the flood, the daemons run as conf/vrrpd.service runs them (SCHED_RR 50). 10 ms holds here
 * (`npm run bench:flood`: 0 transitions at 10 ms with real-time priority, keepalived beside it 63), but a shared CI box
 * can delay the veth delivery itself past a 36 ms Master_Down (see soak.test.ts); 100 ms is what this test asserts.
 * VRRPD_FLOOD_ADVERT=10ms runs the harder case. CPU under the flood is a benchmark figure (bench/flood.ts), not asserted.
 */
const ADVERT = process.env.VRRPD_FLOOD_ADVERT ?? '100ms';

const transitions = (lab: Lab, n: DirectorName) => lab.directors.get(n)!.json().filter((l) => typeof l.obj.to === 'string').length;

describe.skipIf(skip)(`junk flood on the VRRP segment (real vrrpd, ${ADVERT} adverts)`, () => {
  let lab: Lab;
  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error('dist is not built: npm run build (or npm run test:lab)');
    if (!daemonAvailable()) throw new Error('dist/cli.js has no `run` command');
    await reapOrphanLabs();
  });
  beforeEach(async () => { lab = await createLab(); });
  afterEach(async () => { await lab?.destroy(); });

  it(`${FLOOD_SECONDS} s at up to ${FLOOD_PPS / 1000}k packets/s from the client: no transition, drops counted by reason, no per-packet log`, async () => {
    // VRRP over the switch (eth0), where the client is: the crossover is a cable nobody else can reach.
    expect(await up(lab, {
      version: 3, advertInterval: ADVERT, global: { scheduling: { realtimePriority: 50, lockMemory: true } },
      extra: { interface: 'eth0', trackInterfaces: [], dontTrackPrimary: false },
    })).toBe('lvs1');
    await new Promise((r) => setTimeout(r, 500));
    const before = { lvs1: transitions(lab, 'lvs1'), lvs2: transitions(lab, 'lvs2') };
    const lines = { lvs1: lab.directors.get('lvs1')!.lines.length, lvs2: lab.directors.get('lvs2')!.lines.length };
    const flood = lab.spawnIn('client', ['python3', FLOOD, 'eth0', LAN.client, '100', String(FLOOD_PPS), String(FLOOD_SECONDS)], 'flood@client');
    const done = await flood.waitLine((l) => l.startsWith('{'), (FLOOD_SECONDS + 20) * 1000);
    const sent = JSON.parse(done.text) as { sent: number; pps: number; kinds: Record<string, number> };
    const [s1, s2] = [await lab.status('lvs1'), await lab.status('lvs2')];
    const i1 = await inst(lab, 'lvs1');
    const i2 = await inst(lab, 'lvs2');
    const counted = (s: typeof s1) => ({
      ...s.daemon.drops,
      ...Object.fromEntries(Object.entries(s.instances[0]!.counters.drops as Record<string, number>).map(([k, v]) => [`instance:${k}`, v])),
    });
    const total = (s: typeof s1) => Object.values(counted(s)).reduce((a, b) => a + Number(b), 0);
    console.log(JSON.stringify({
      flood: sent, transitions: { lvs1: transitions(lab, 'lvs1') - before.lvs1, lvs2: transitions(lab, 'lvs2') - before.lvs2 },
      countedDrops: { lvs1: counted(s1), lvs2: counted(s2) }, socketQueueDrops: { lvs1: s1.daemon.socketDrops, lvs2: s2.daemon.socketDrops },
    }));
    // The flood really ran: one Python process reaches 45-50k/s on an idle core, far less on a loaded box.
    expect(sent.sent).toBeGreaterThan(2_000 * FLOOD_SECONDS);
    // Zero state changes on either director.
    expect(transitions(lab, 'lvs1') - before.lvs1).toBe(0);
    expect(transitions(lab, 'lvs2') - before.lvs2).toBe(0);
    expect(i1.state).toBe('MASTER');
    expect(i2.state).toBe('BACKUP');
    // What reached JavaScript was counted by reason: forged priority 255 with TTL 64 (RFC 5798 §7.1), bad checksums.
    for (const s of [s1, s2]) {
      expect(s.daemon.drops['bad-checksum'] ?? 0).toBeGreaterThan(0);
      // The decoder drops a multicast advert with TTL ≠ 255 before any instance sees it (daemon-wide counter).
      expect(counted(s)['bad-ttl'] ?? 0).toBeGreaterThan(0);
      // The kernel filter kept the rest (other VRIDs, random bytes, wrong lengths) away: far fewer counted than sent.
      expect(total(s)).toBeLessThan(sent.sent * 0.6);
      expect(s.daemon.drops['vrid-not-configured'] ?? 0).toBe(0);
    }
    // No per-packet logging at info (drops are logged at debug).
    expect(lab.directors.get('lvs1')!.lines.length - lines.lvs1).toBeLessThan(20);
    expect(lab.directors.get('lvs2')!.lines.length - lines.lvs2).toBeLessThan(20);
  }, 90_000);
});
