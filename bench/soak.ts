// Soak under a busy box (issue 11 part 3): a vrrpd pair and a keepalived pair side by side, in one run, at 10 ms
// adverts, while busy loops saturate every core and a memory hog churns pages. Figures per implementation: false
// transitions (goal 0), advert lateness p50/p99/max (the master's adverts as the backup's capture timestamps them:
// interval - nominal), and Master_Down lateness (SIGKILL of the master at the end, still under load: the backup's
// first advert after the master's last, minus Master_Down_Interval). Root only; `npm run bench:soak -- --minutes N`.
import { stringify } from 'yaml';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { topo, load, type Lab, type DirectorName } from './lib/lab.js';
import { startCapture, type AdvertSeen, type Capture } from './lib/capture.js';
import { KeepalivedImpl, VrrpdImpl, type Impl, type ModeSpec } from './lib/impl.js';
import { table, ms } from './lib/stats.js';
import { masterDownIntervalMs } from '../src/engine/timers.js';

const { createLab, reapOrphanLabs, sleep, waitFor, VIP, XOVER } = topo;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} wants a number`);
  return v;
}
const MINUTES = arg('minutes', 10);
const INTERVAL_MS = arg('interval-ms', 10);
const BUSY = arg('busy', cpus().length);
const HOG_MB = arg('hog-mb', 1024);
const RT = arg('rt-priority', 50);
const MODE: ModeSpec = { name: `v3 ${INTERVAL_MS} ms`, version: 3, intervalMs: INTERVAL_MS };

function vrrpdYaml(node: DirectorName): string {
  return stringify({
    // As conf/vrrpd.service runs it: real-time priority and locked code (global.scheduling = --rt-priority --lock-memory).
    global: { routerId: node.toUpperCase(), scheduling: { realtimePriority: RT, lockMemory: RT > 0 } },
    instances: { vi_100: { interface: 'eth1', vrid: 100, version: 3, priority: node === 'lvs1' ? 100 : 90, state: 'BACKUP', preempt: true,
      advertInterval: `${INTERVAL_MS}ms`, garp: { masterDelay: '5s', masterRepeat: 5 }, vips: [`${VIP}/32 dev eth0`] } },
  });
}
function keepalivedConf(node: DirectorName): string {
  // keepalived's own knobs for the same thing: vrrp_rt_priority, vrrp_no_swap.
  return `global_defs {\n  router_id ${node.toUpperCase()}\n  vrrp_version 3\n${RT > 0 ? `  vrrp_rt_priority ${RT}\n  vrrp_no_swap\n` : ''}}\n`
    + `vrrp_instance VI_1 {\n  state BACKUP\n  interface eth1\n  virtual_router_id 100\n  priority ${node === 'lvs1' ? 100 : 90}\n`
    + `  advert_int ${INTERVAL_MS / 1000}\n  virtual_ipaddress {\n    ${VIP}/32 dev eth0\n  }\n}\n`;
}

/** cap: the backup's eth1 (adverts as received); sent: the master's own eth1 (adverts as they leave it). */
interface Side { impl: Impl; lab: Lab; cap: Capture; sent: Capture; from: number[] }
interface Figures {
  name: string; falseTransitions: number; adverts: number; p50: number; p99: number; max: number; over: number; masterDownLateMs: number | null; lines: string[];
  /** Gaps > Master_Down_Interval in the master's adverts as they left its eth1 (the sender late), and the received gaps the other pair had at the same moment. */
  overAtSender: number; overShared: number; gaps: [number, number][];
}

const quantile = (s: number[], q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
/** State changes logged after the settle point (vrrpd: JSON "to"; keepalived: "Entering X STATE"). */
const transitionLines = (s: Side) => (['lvs1', 'lvs2'] as const).flatMap((n, i) => s.impl.grep(n, /"to":"|Entering (MASTER|BACKUP|FAULT) STATE/, 0).slice(s.from[i]));

async function setUp(name: 'vrrpd' | 'keepalived', seconds: number): Promise<Side> {
  const lab = await createLab();
  const impl: Impl = name === 'vrrpd' ? new VrrpdImpl(lab, MODE) : new KeepalivedImpl(lab, MODE);
  for (const n of ['lvs1', 'lvs2'] as const) {
    if (name === 'vrrpd') lab.writeConfig(n, vrrpdYaml(n));
    else writeFileSync(join(lab.dir, `${n}.keepalived.conf`), keepalivedConf(n));
  }
  await impl.start('lvs1');
  await impl.start('lvs2');
  await waitFor(async () => (await lab.vipHolders(VIP)).join() === 'lvs1', 15_000, 100, `${name}: lvs1 holding the VIP`);
  await sleep(1000);
  const cap = await startCapture(lab, 'lvs2', 'eth1', 'ip proto 112', `${name}-soak`, seconds + 120);
  const sent = await startCapture(lab, 'lvs1', 'eth1', `ip proto 112 and src ${XOVER.lvs1}`, `${name}-soak-sent`, seconds + 120);
  const from = (['lvs1', 'lvs2'] as const).map((n) => impl.grep(n, /"to":"|Entering (MASTER|BACKUP|FAULT) STATE/, 0).length);
  return { impl, lab, cap, sent, from };
}

async function masterDown(s: Side): Promise<number | null> {
  await s.impl.prepareKill('lvs1');
  const t = Date.now() * 1000;
  s.impl.kill('lvs1');
  await waitFor(async () => s.cap.poll().some((a) => a.kind === 'advert' && a.src === XOVER.lvs2 && a.ts > t), 10_000, 20, 'the backup taking over').catch(() => null);
  const adv = s.cap.poll().filter((a): a is AdvertSeen & { kind: 'advert' } => a.kind === 'advert');
  const first = adv.find((a) => a.src === XOVER.lvs2 && a.ts > t - 1000_000);
  const last = adv.filter((a) => a.src === XOVER.lvs1 && a.ts < (first?.ts ?? Infinity)).at(-1);
  if (!first || !last) return null;
  return (first.ts - last.ts) / 1000 - masterDownIntervalMs(3, 90, INTERVAL_MS / 10);
}

const MDI_MS = masterDownIntervalMs(3, 90, INTERVAL_MS / 10);

/** The master's advert times (µs) in a capture, within the soak. */
const advertTimes = (c: Capture, startUs: number, endUs: number) =>
  c.poll().filter((a) => a.kind === 'advert' && a.src === XOVER.lvs1 && a.ts >= startUs && a.ts <= endUs).map((a) => a.ts);
/** Silences longer than Master_Down_Interval (an interval that lets the backup take over), as [from, to] µs. */
const gapsOver = (ts: number[]): [number, number][] =>
  ts.slice(1).flatMap((t, i): [number, number][] => ((t - ts[i]!) / 1000 > MDI_MS ? [[ts[i]!, t]] : []));

function figures(s: Side, soakStartUs: number, soakEndUs: number, mdLate: number | null, falseT: string[]): Figures {
  const adv = advertTimes(s.cap, soakStartUs, soakEndUs);
  const late = adv.slice(1).map((t, i) => (t - adv[i]!) / 1000 - INTERVAL_MS).sort((a, b) => a - b);
  const gaps = gapsOver(adv);
  return {
    name: s.impl.name, falseTransitions: falseT.length, adverts: adv.length, p50: quantile(late, 0.5), p99: quantile(late, 0.99), max: late.at(-1) ?? NaN,
    over: gaps.length, overAtSender: gapsOver(advertTimes(s.sent, soakStartUs, soakEndUs)).length, overShared: 0, gaps,
    masterDownLateMs: mdLate, lines: falseT,
  };
}

/** How many of a's silences overlap a silence of b's: the box stalled both pairs at once (neither daemon's doing). */
const shared = (a: [number, number][], b: [number, number][]) => a.filter(([f, t]) => b.some(([g, u]) => g < t && u > f)).length;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('root only (network namespaces)');
  await reapOrphanLabs();
  const seconds = MINUTES * 60;
  const sides: Side[] = [];
  let stress: { stop(): Promise<void> } | null = null;
  try {
    for (const name of ['vrrpd', 'keepalived'] as const) sides.push(await setUp(name, seconds));
    console.log(`soak: ${MINUTES} min at ${INTERVAL_MS} ms adverts, ${BUSY} busy loop(s), memory hog ${HOG_MB} MB, rt priority ${RT}; vrrpd and keepalived side by side`);
    const startUs = Date.now() * 1000;
    stress = load.startLoad({ busy: BUSY, hogMb: HOG_MB, hogMode: 'churn', maxSeconds: seconds + 60 });
    for (let left = seconds; left > 0; left -= 60) {
      await sleep(Math.min(60, left) * 1000);
      const counts = sides.map((s) => `${s.impl.name} ${transitionLines(s).length} transition(s)`).join(', ');
      console.log(`  ${Math.round((seconds - left + Math.min(60, left)) / 60)} min: ${counts}`);
    }
    const endUs = Date.now() * 1000;
    const falseT = sides.map((s) => transitionLines(s));
    const md: (number | null)[] = [];
    for (const s of sides) md.push(await masterDown(s)); // still under load
    await stress.stop();
    stress = null;
    const f = sides.map((s, i) => figures(s, startUs, endUs, md[i]!, falseT[i]!));
    for (const x of f) x.overShared = shared(x.gaps, f.find((y) => y !== x)?.gaps ?? []);
    console.log(table([
      ['impl', 'false transitions', 'adverts', 'late p50 ms', 'late p99 ms', 'late max ms', 'gaps > MDI', 'at sender', 'shared', 'Master_Down late ms'],
      ...f.map((x) => [x.name, String(x.falseTransitions), String(x.adverts), ms(x.p50), ms(x.p99), ms(x.max), String(x.over), String(x.overAtSender), String(x.overShared), ms(x.masterDownLateMs)]),
    ]));
    console.log(`gaps > MDI: silences of the master's adverts longer than Master_Down_Interval (${MDI_MS.toFixed(1)} ms) as the backup received them; `
      + '"at sender": the same seen on the master\'s own eth1 as they left (late sends); "shared": received gaps that overlap one of the other pair\'s '
      + '(both pairs silent at once: the box stalled, not a daemon)');
    for (const x of f) for (const l of x.lines.slice(0, 10)) console.log(`  ${x.name}: ${l}`);
    // vrrpd says when its own timer fired late (the process did not get the CPU): a silence at the sender without
    // one is the send path or the box, not the event loop.
    for (const s of sides) {
      for (const n of ['lvs1', 'lvs2'] as const) {
        const late = s.impl.grep(n, /timer fired late/, 0);
        if (late.length) console.log(`  ${s.impl.name} ${n}: ${late.length} late-timer warning(s); last: ${late.at(-1)}`);
      }
    }
    process.exitCode = f.every((x) => x.name !== 'vrrpd' || x.falseTransitions === 0) ? 0 : 1;
  } finally {
    await stress?.stop();
    for (const s of sides) {
      await s.cap.stop().catch(() => undefined);
      await s.sent.stop().catch(() => undefined);
      for (const n of ['lvs1', 'lvs2'] as const) await s.impl.stop(n).catch(() => undefined);
      await s.lab.destroy();
    }
  }
}

await main();
