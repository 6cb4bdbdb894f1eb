// Short soak (issue 11 part 3; the long one with keepalived side by side, at 10 ms adverts, is bench/soak.ts): a vrrpd
// pair at 100 ms adverts, run as conf/vrrpd.service runs it (SCHED_RR 50), while busy loops saturate every core and a
// memory hog holds and touches 512 MB for ~55 s: not one transition.
// Why 100 ms here and 10 ms only in the bench: at 10 ms (Master_Down ≈ 36 ms) a fresh-clone CI run here saw one false
// takeover with neither daemon's timer late (1.3 ms): the MASTER's advert took > 30 ms to cross the veth pair, whose
// delivery can fall to ksoftirqd, a SCHED_OTHER thread the busy loops compete with. That is the box, not vrrpd (a
// keepalived pair's adverts take the same path: bench/soak.ts runs both); a test must not fail on it. At 100 ms
// (Master_Down ≈ 365 ms) a daemon starved of CPU still fails it. The hog holds rather than churns: on this
// project's VM machines churning stalls the whole guest, both directors with it, for up to ~100 ms (src/lab/load.ts),
// and so does populating the held memory once, which is why counting starts after it.
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLab, daemonAvailable, labSupported, reapOrphanLabs, sleep, CLI, type Lab } from '../../src/lab/topology.js';
import { startLoad, type Load } from '../../src/lab/load.js';
import { up } from './helpers.js';

const skip = !labSupported().ok;
const SOAK_S = 55;

describe.skipIf(skip)('soak on a busy box (real vrrpd, 100 ms adverts)', () => {
  let lab: Lab;
  let stress: Load | null = null;
  beforeAll(async () => {
    if (!existsSync(CLI) || !daemonAvailable()) throw new Error('dist is not built: npm run build');
    await reapOrphanLabs();
  });
  beforeEach(async () => { lab = await createLab(); });
  afterEach(async () => {
    await stress?.stop();
    stress = null;
    await lab?.destroy();
  });

  it(`${SOAK_S} s with every core busy and a memory hog: zero false transitions`, async () => {
    // The unit's settings, through the config (the same as --rt-priority 50).
    const o = { version: 3 as const, advertInterval: '100ms', extra: { garp: { masterDelay: 0 } }, global: { scheduling: { realtimePriority: 50, lockMemory: true } } };
    expect(await up(lab, o)).toBe('lvs1');
    stress = startLoad({ busy: cpus().length, hogMb: 512, maxSeconds: SOAK_S + 30 });
    // Counted once the hog holds its memory: the host populating 512 MB stalls the whole guest once (see above).
    await stress.ready;
    await sleep(1500);
    const from = (['lvs1', 'lvs2'] as const).map((n) => lab.directors.get(n)!.lines.length);
    await sleep(SOAK_S * 1000);
    await stress.stop();
    stress = null;
    const transitions = (['lvs1', 'lvs2'] as const).flatMap((n, i) => lab.directors.get(n)!.lines.slice(from[i]).map((l) => l.text).filter((t) => t.includes('"to":"')));
    const late = (['lvs1', 'lvs2'] as const).flatMap((n, i) => lab.directors.get(n)!.lines.slice(from[i]).map((l) => l.text).filter((t) => t.includes('timer fired late')));
    console.log(`soak ${SOAK_S} s: ${transitions.length} transition(s), ${late.length} late-timer warning(s)${late.length ? `; last: ${late.at(-1)}` : ''}`);
    expect(transitions).toEqual([]);
    expect((await lab.instance('lvs1'))?.state).toBe('MASTER');
    expect((await lab.instance('lvs2'))?.state).toBe('BACKUP');
  }, 120_000);
});
