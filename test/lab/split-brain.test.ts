// Split-brain heal in the lab, both orders: VRRP over the switch, blocked there (bridge mcast_flood off, carriers up), then healed.
import { existsSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createLab, daemonAvailable, labSupported, reapOrphanLabs, CLI, LAB_DIST, LAN,
  type DirectorName, type Lab, type LabProcess,
} from '../../src/lab/topology.js';
import { startProbe, startResponders, type ClientProbe } from '../../src/lab/prober.js';
import { expectSoleHolder, up } from './helpers.js';

const skip = !labSupported().ok;
const INTERVAL_MS = 500;
const PROBE_MS = 10;
/** VRRP on eth0 (through the switch) so that the switch can block it with both carriers up. */
const overSwitch = (more: Record<string, unknown> = {}) => ({
  version: 3 as const, advertInterval: `${INTERVAL_MS}ms`, garpMasterDelay: '1s',
  extra: { interface: 'eth0', trackInterfaces: [], dontTrackPrimary: false, ...more },
});

/** One VRRP line of `tcpdump -i any -tt` in the switch: the port, the direction, the source. */
const LINE_RE = /^\d+\.\d+\s+(lvs1|lvs2|client)\s+(In|Out|M|B|P)\s+IP (\S+) > \S+: VRRP/;
const nodeOf = (ip: string): DirectorName | null => (ip === LAN.lvs1 ? 'lvs1' : ip === LAN.lvs2 ? 'lvs2' : null);

describe.skipIf(skip)('split-brain heal re-points the clients whichever advert crosses first (real vrrpd)', () => {
  let lab: Lab;
  let cap: LabProcess;
  let probe: ClientProbe;

  beforeAll(async () => {
    if (!existsSync(CLI) || !existsSync(`${LAB_DIST}/probe.js`)) throw new Error('dist is not built: npm run build (or npm run test:lab)');
    if (!daemonAvailable()) throw new Error('dist/cli.js has no `run` command');
    await reapOrphanLabs();
  });
  beforeEach(async () => {
    lab = await createLab();
    await startResponders(lab);
  });
  afterEach(async () => { await lab?.destroy(); });

  let sh: LabProcess;
  let cmds = 0;
  /** A command in the switch's long-running shell (no `ip netns exec` per command: a heal lands within a few ms). */
  async function swCmd(cmd: string): Promise<void> {
    const tag = `done-${++cmds}`;
    const from = sh.lines.length;
    sh.proc.stdin!.write(`${cmd}; echo ${tag}\n`);
    await sh.waitLine((t) => t === tag, 5000, { from });
  }
  /** Multicast from the switch to both directors off (on = false) or back on: the two ports change together. */
  const blockSwitch = (on: boolean) => swCmd(`bridge link set dev lvs1 mcast_flood ${on ? 'off' : 'on'}; bridge link set dev lvs2 mcast_flood ${on ? 'off' : 'on'}`);

  async function start(more: Record<string, unknown> = {}): Promise<void> {
    expect(await up(lab, overSwitch(more))).toBe('lvs1');
    sh = lab.spawnIn('sw', ['sh'], 'sh@sw');
    cap = lab.spawnIn('sw', ['timeout', '120', 'tcpdump', '-i', 'any', '-l', '-n', '-tt', 'ip proto 112'], 'tcpdump@sw');
    await cap.waitLine((l) => l.includes('listening on'), 5000, { stderr: true });
    probe = await startProbe(lab, { intervalMs: PROBE_MS, durationMs: 110_000 });
    await probe.waitServedBy('lvs1', 3000, 0);
  }

  /**
   * Block, wait for both MASTER and the client on lvs2, then heal right after `second` sent an advert so that the
   * other's advert is the first to cross. Returns the order seen on the wire (the first advert forwarded to the
   * other director's port after the heal) and the delay from the heal to the client's first reply from lvs1.
   */
  async function splitAndHeal(wantFirst: DirectorName): Promise<{ first: DirectorName; servedMs: number | null }> {
    const T = performance.now();
    const dbg = (m: string) => { if (process.env.SB_DEBUG) console.log(`${(performance.now() - T).toFixed(0)} ms: ${m}`); };
    await blockSwitch(true);
    dbg('blocked');
    await lab.waitTransition('lvs2', 'MASTER', T, 5000);
    dbg('lvs2 MASTER');
    await probe.waitServedBy('lvs2', 3000);
    dbg('served by lvs2');
    const second: DirectorName = wantFirst === 'lvs1' ? 'lvs2' : 'lvs1';
    const from = cap.lines.length;
    await cap.waitLine((t) => { const m = LINE_RE.exec(t); return !!m && m[1] === second && m[2] !== 'Out' && nodeOf(m[3]!) === second; }, 2000, { from });
    const mark = cap.lines.length;
    const t0 = performance.now();
    await blockSwitch(false);
    const healed = performance.now();
    dbg('healed');
    await lab.waitTransition('lvs2', 'BACKUP', t0, 3000);
    dbg('lvs2 BACKUP');
    const served = await probe.waitServedBy('lvs1', 3000, t0).then(() => probe.handover(t0, 'lvs1'), () => null);
    const crossing = await cap.waitLine((t) => {
      const m = LINE_RE.exec(t);
      const src = m ? nodeOf(m[3]!) : null;
      return !!m && m[2] === 'Out' && src !== null && m[1] !== src && m[1] !== 'client';
    }, 2000, { from: mark });
    dbg(`served ${String(served?.firstNew.t)}; first across: ${crossing.text}`);
    const first = nodeOf(LINE_RE.exec(crossing.text)![3]!)!;
    return { first, servedMs: served ? served.firstNew.t - probe.probeTime(healed) : null };
  }

  it('ten heals, alternating which advert crosses first: each time lvs1 alone holds the VIP and serves the client within one interval + 10 ms', async () => {
    await start();
    const seen: { first: DirectorName; servedMs: number | null }[] = [];
    for (let i = 0; i < 10; i++) {
      seen.push(await splitAndHeal(i % 2 === 0 ? 'lvs1' : 'lvs2'));
      expect(await lab.vipHolders()).toEqual(['lvs1']);
    }
    await expectSoleHolder(lab, 'lvs1');
    console.log(`split-brain heals (first advert across, ms from heal to the client served by lvs1): ${seen.map((s) => `${s.first} ${s.servedMs?.toFixed(1)}`).join(', ')}`);
    // The prober's own resolution (one probe every PROBE_MS) comes on top of the bound.
    for (const s of seen) expect(s.servedMs).not.toBeNull();
    for (const s of seen) expect(s.servedMs!).toBeLessThanOrEqual(INTERVAL_MS + 10 + PROBE_MS);
    expect(seen.filter((s) => s.first === 'lvs1').length).toBeGreaterThanOrEqual(3);
    expect(seen.filter((s) => s.first === 'lvs2').length).toBeGreaterThanOrEqual(3);
  }, 150_000);

  it('control: with higherPrioritySendAdvert off, a heal where lvs1\'s advert crosses first leaves the client blackholed', async () => {
    await start({ higherPrioritySendAdvert: false });
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await splitAndHeal('lvs1');
      if (r.first !== 'lvs1') continue; // the phases raced the other way: try again
      expect(r.servedMs).toBeNull(); // nobody re-announced: the client still sends to lvs2's MAC
      return;
    }
    throw new Error('lvs1\'s advert never crossed first in 3 heals');
  }, 60_000);
});
