// Redundant advert paths benchmark (not a test): vrrpd (extraPaths over the LAN, and without) and keepalived (default, dont_track_primary), a fresh lab each, through a crossover cut, a dead master and a LAN cut.
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { prober, topo, type ClientProbe, type DirectorName, type Lab } from './lib/lab.js';
import { KeepalivedImpl, VrrpdImpl, type Impl, type ImplName, type ModeSpec } from './lib/impl.js';

const { createLab, daemonAvailable, installSignalHandlers, labSupported, reapOrphanLabs, run, sleep, waitFor, LAN, VIP } = topo;
const { startProbe, startResponders } = prober;

const NODES: readonly DirectorName[] = ['lvs1', 'lvs2'];
const INTERVAL_MS = 500;
/** Client probe period, ms (outage resolution). */
const PROBE_MS = 20;
/** VIP holder sampling period, ms (an overlap shorter than this can be missed). */
const SAMPLE_MS = 50;
/** "Served at end": the client's last reply before the end of the watch came at most this long before it. */
const SERVED_MS = 200;
const peer = (n: DirectorName): DirectorName => (n === 'lvs1' ? 'lvs2' : 'lvs1');

const { values } = parseArgs({
  options: {
    scenarios: { type: 'string', default: 'A,B,C' },
    setups: { type: 'string', default: 'vrrpd-paths,vrrpd,ka-k1,ka-k2' },
    /** How long each fault is watched, ms. */
    watch: { type: 'string', default: '5000' },
  },
});
const WATCH_MS = Number(values.watch);
if (!(WATCH_MS >= 1000 && WATCH_MS <= 60_000)) throw new Error('--watch takes 1000-60000 ms');

// ------------------------------------------------------------------------------- setups, scenarios

interface Setup { key: string; label: string; impl: ImplName; mode: ModeSpec }

const base = { version: 3, intervalMs: INTERVAL_MS, iface: 'eth1' } as const;
/** Both implementations: VRRP on the crossover eth1 (tracked), the LAN eth0 tracked too. */
const KA_TRACK = ['track_interface {', '    eth0', '}'];
const SETUPS: readonly Setup[] = [
  { key: 'vrrpd-paths', impl: 'vrrpd', label: 'vrrpd +extraPaths eth0', mode: { ...base, name: 'paths',
    vrrpdInstance: (n) => ({ dontTrackPrimary: false, trackInterfaces: ['eth0'], extraPaths: [{ interface: 'eth0', peer: LAN[peer(n)] }] }) } },
  { key: 'vrrpd', impl: 'vrrpd', label: 'vrrpd, no extra path', mode: { ...base, name: 'control',
    vrrpdInstance: () => ({ dontTrackPrimary: false, trackInterfaces: ['eth0'] }) } },
  { key: 'ka-k1', impl: 'keepalived', label: 'keepalived k1 default', mode: { ...base, name: 'k1', keepalivedInstance: KA_TRACK } },
  { key: 'ka-k2', impl: 'keepalived', label: 'keepalived k2 dont_track_primary', mode: { ...base, name: 'k2', keepalivedInstance: ['dont_track_primary', ...KA_TRACK] } },
];

interface Scenario {
  title: string;
  /** Done before the fault's time zero (e.g. keepalived's parent SIGSTOP). */
  prepare?: (lab: Lab, impl: Impl) => Promise<void>;
  fault: (lab: Lab, impl: Impl) => Promise<void>;
  /** The director whose daemon the fault kills. */
  killed?: DirectorName;
}

const SCENARIOS: Record<string, Scenario> = {
  A: { title: 'crossover cut (lvs1 eth1 down, both carriers drop), master alive', fault: async (lab) => { await lab.cutLink('lvs1', 'eth1'); } },
  B: {
    title: 'dead master (lvs1 eth1 + eth0 down, then SIGKILL of its daemon)',
    prepare: (_lab, impl) => impl.prepareKill('lvs1'),
    fault: async (lab, impl) => { await lab.cutLink('lvs1', 'eth1'); await lab.cutLink('lvs1', 'eth0'); impl.kill('lvs1'); },
    killed: 'lvs1',
  },
  C: { title: "master's LAN cut (lvs1 eth0 down, tracked)", fault: async (lab) => { await lab.cutLink('lvs1', 'eth0'); } },
};

// ------------------------------------------------------------------------------------ observations

const STATE_RE: Record<ImplName, RegExp> = {
  vrrpd: /"to":"(MASTER|BACKUP|FAULT|INIT)"/,
  keepalived: /Entering (MASTER|BACKUP|FAULT) STATE/,
};

function states(impl: Impl, node: DirectorName): { at: number; state: string }[] {
  const re = STATE_RE[impl.name];
  return impl.events(node, re).map((l) => ({ at: l.at, state: re.exec(l.text)?.[1] ?? '?' }));
}
const lastState = (impl: Impl, node: DirectorName): string | null => states(impl, node).at(-1)?.state ?? null;

/** A sample: when its `ip` calls started and ended (performance.now()), who held the VIP. */
interface Sample { start: number; at: number; holders: DirectorName[] }

/** Directors with the VIP on an eth0 that is up (a VIP left on a downed eth0 serves nobody); one `ip` per director. */
async function holders(lab: Lab): Promise<DirectorName[]> {
  const has = await Promise.all(NODES.map(async (n) => {
    const r = await run('ip', ['-n', lab.ns(n), '-o', '-4', 'addr', 'show', 'dev', 'eth0', 'up'], { check: false, timeoutMs: 5000 });
    return r.stdout.includes(`inet ${VIP}/`);
  }));
  return NODES.filter((_, i) => has[i]);
}

/** Samples the VIP holders every SAMPLE_MS until stopped (bounded by maxMs). */
function startSampler(lab: Lab, maxMs: number): { count: () => number; stop: () => Promise<Sample[]> } {
  const samples: Sample[] = [];
  let stopped = false;
  const done = (async () => {
    const end = performance.now() + maxMs;
    while (!stopped && performance.now() < end) {
      const t0 = performance.now();
      const h = await holders(lab);
      samples.push({ start: t0, at: performance.now(), holders: h });
      await sleep(Math.max(0, SAMPLE_MS - (performance.now() - t0)));
    }
  })();
  return { count: () => samples.length, stop: async () => { stopped = true; await done; return samples; } };
}

interface Row {
  scenario: string; setup: string;
  /** States entered after the fault, with ms since the fault. */
  transitions: Record<DirectorName, { state: string; ms: number }[]>;
  final: Record<DirectorName, string>;
  maxHolders: number;
  /** VIP holders over time: changes, ms since the fault. */
  holderTimeline: { ms: number; holders: DirectorName[] }[];
  /** The longest silence at the client from the fault to the end of the watch, ms; stillOut: no reply at the end. */
  outageMs: number; stillOut: boolean;
  servedAtEnd: string;
  /** How often the director answering the client changed between the fault and the end (a split brain can flip it). */
  clientSwitches: number;
  /** lvs2 logged MASTER after the fault (ms), the client's first reply from lvs2 (ms). */
  lvs2MasterMs: number | null; clientOnLvs2Ms: number | null;
  samples: number;
}

// ------------------------------------------------------------------------------------------- a run

async function once(setup: Setup, key: string, sc: Scenario): Promise<Row> {
  const lab = await createLab();
  let impl: Impl | null = null;
  let probe: ClientProbe | null = null;
  try {
    impl = setup.impl === 'vrrpd' ? new VrrpdImpl(lab, setup.mode) : new KeepalivedImpl(lab, setup.mode);
    const im = impl;
    await startResponders(lab);
    await im.start('lvs1');
    await waitFor(() => lastState(im, 'lvs1') === 'MASTER', 10_000, 50, 'lvs1 MASTER');
    await im.start('lvs2');
    await waitFor(() => lastState(im, 'lvs2') === 'BACKUP', 10_000, 50, 'lvs2 BACKUP');
    probe = await startProbe(lab, { intervalMs: PROBE_MS, durationMs: WATCH_MS + 8000 });
    await probe.waitServedBy('lvs1', 5000, 0);
    await sleep(2 * INTERVAL_MS);
    const h0 = await holders(lab);
    if (h0.join() !== 'lvs1' || lastState(im, 'lvs1') !== 'MASTER' || lastState(im, 'lvs2') !== 'BACKUP') {
      throw new Error(`not steady before the fault: holders ${h0.join() || 'none'}, lvs1 ${lastState(im, 'lvs1')}, lvs2 ${lastState(im, 'lvs2')}`);
    }
    const sampler = startSampler(lab, WATCH_MS + 10_000);
    await waitFor(() => sampler.count() >= 2, 5000, 10, 'two VIP holder samples before the fault');
    await sc.prepare?.(lab, im);
    const t = performance.now();
    await sc.fault(lab, im);
    const faultDone = performance.now();
    await sleep(Math.max(0, WATCH_MS - (performance.now() - t)));
    const end = performance.now();
    const samples = (await sampler.stop()).filter((s) => s.at <= end);
    // Samples begun once the fault was done (the links are down); the client's lines up to `end` given time to arrive.
    const after = samples.filter((s) => s.start >= faultDone);
    await sleep(500);

    const ms = (x: number) => Math.round(x - t);
    const transitions = { lvs1: [], lvs2: [] } as Row['transitions'];
    const final = { lvs1: '', lvs2: '' } as Row['final'];
    for (const n of NODES) {
      const all = states(im, n).filter((s) => s.at <= end);
      transitions[n] = all.filter((s) => s.at >= t).map((s) => ({ state: s.state, ms: ms(s.at) }));
      final[n] = `${n === sc.killed ? 'killed, was ' : ''}${all.at(-1)?.state ?? '?'}`;
    }
    const timeline: Row['holderTimeline'] = [];
    let prev = samples.filter((s) => s.at < t).at(-1)?.holders.join() ?? h0.join();
    for (const s of after) {
      if (s.holders.join() === prev) continue;
      prev = s.holders.join();
      timeline.push({ ms: ms(s.at), holders: s.holders });
    }
    const out = probe.outage(t, end);
    const endProbe = probe.probeTime(end);
    const last = probe.replies().filter((r) => r.t <= endProbe).at(-1) ?? null;
    const lastLocal = last ? last.t + (end - endProbe) : null;
    const stillOut = out.after === null && out.ms > 0;
    const tProbe = probe.probeTime(t);
    const seen = probe.replies().filter((r) => r.t >= tProbe && r.t <= endProbe).map((r) => r.name);
    const prevName = probe.replies().filter((r) => r.t < tProbe).at(-1)?.name;
    const clientSwitches = seen.filter((n, i) => n !== (i ? seen[i - 1] : prevName)).length;
    const hand = probe.handover(t, 'lvs2');
    const m2 = transitions.lvs2.find((s) => s.state === 'MASTER');
    return {
      scenario: key, setup: setup.key, transitions, final,
      maxHolders: Math.max(0, ...after.map((s) => s.holders.length)),
      holderTimeline: timeline,
      outageMs: Math.round(out.ms), stillOut,
      clientSwitches,
      servedAtEnd: last && lastLocal !== null && end - lastLocal <= SERVED_MS ? last.name : 'nobody',
      lvs2MasterMs: m2 ? m2.ms : null,
      clientOnLvs2Ms: hand && hand.firstNew.t <= endProbe ? Math.round(hand.firstNew.t - probe.probeTime(t)) : null,
      samples: after.length,
    };
  } catch (e) {
    if (impl) for (const n of NODES) process.stderr.write(`${impl.name}@${n}:\n${impl.tail(n, 12)}\n`);
    throw e;
  } finally {
    await probe?.stop().catch(() => undefined);
    if (impl) for (const n of NODES) await impl.stop(n).catch(() => undefined);
    await lab.destroy();
  }
}

// ------------------------------------------------------------------------------------------ output

const trans = (l: { state: string; ms: number }[]) => (l.length ? `${l.length}: ${l.map((s) => `${s.state}@${s.ms}`).join(' ')}` : '0');
const timeline = (r: Row) => r.holderTimeline.length ? r.holderTimeline.map((h) => `${h.holders.join('+') || 'none'}@${h.ms}`).join(' ') : 'unchanged';

function table(rows: Row[]): string {
  const head = ['setup', 'transitions lvs1 (state@ms)', 'transitions lvs2 (state@ms)', 'max VIP holders', 'VIP holders (who@ms)',
    'client outage ms', 'served at end (switches)', 'final lvs1 / lvs2', 'lvs2 takeover (MASTER ms / client ms)'];
  const out: string[] = [];
  for (const key of [...new Set(rows.map((r) => r.scenario))]) {
    out.push(`\n${key}. ${SCENARIOS[key]!.title}\n`);
    out.push(`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`);
    for (const r of rows.filter((x) => x.scenario === key)) {
      const take = r.lvs2MasterMs === null ? 'no' : `yes (${r.lvs2MasterMs} / ${r.clientOnLvs2Ms ?? 'never'})`;
      out.push(`| ${SETUPS.find((s) => s.key === r.setup)!.label} | ${trans(r.transitions.lvs1)} | ${trans(r.transitions.lvs2)} | ${r.maxHolders}${r.maxHolders > 1 ? ' (split brain)' : ''} | `
        + `${timeline(r)} | ${r.stillOut ? `≥ ${r.outageMs} (still out)` : r.outageMs} | ${r.servedAtEnd} (${r.clientSwitches}) | ${r.final.lvs1} / ${r.final.lvs2} | ${take} |`);
    }
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const ok = labSupported();
  if (!ok.ok) throw new Error(`lab not supported: ${ok.why}`);
  if (!daemonAvailable()) throw new Error('dist/cli.js is not built: npm run build');
  const ka = await run('keepalived', ['-v'], { check: false, timeoutMs: 5000 });
  const kaVersion = `${ka.stdout}${ka.stderr}`.split('\n')[0]?.trim() ?? '?';
  installSignalHandlers();
  await reapOrphanLabs();
  const keys = values.scenarios.split(',').map((s) => s.trim());
  for (const k of keys) if (!SCENARIOS[k]) throw new Error(`unknown scenario ${k}`);
  const setups = values.setups.split(',').map((s) => SETUPS.find((x) => x.key === s.trim()) ?? (() => { throw new Error(`unknown setup ${s}`); })());
  console.log(`paths: VRRPv3, adverts every ${INTERVAL_MS} ms on the crossover eth1 (Master_Down of lvs2 ≈ 1824 ms), lvs1 prio 100 MASTER, lvs2 prio 90; `
    + `fault watched ${WATCH_MS} ms; client probe every ${PROBE_MS} ms, VIP holders (VIP on an up eth0) sampled every ${SAMPLE_MS} ms; ${kaVersion}; `
    + `${cpus().length} CPUs, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const rows: Row[] = [];
  const t0 = performance.now();
  for (const k of keys) {
    for (const s of setups) {
      const r = await once(s, k, SCENARIOS[k]!);
      rows.push(r);
      process.stderr.write(`${JSON.stringify(r)}\n`);
    }
  }
  console.log(table(rows));
  console.log(`\ntimes in ms after the fault (transitions: when the daemon's log line arrived; served at end: last reply ≤ ${SERVED_MS} ms before the end); ${rows.length} runs in ${((performance.now() - t0) / 1000).toFixed(0)} s, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
}

await main();
