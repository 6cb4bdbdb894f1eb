// Failover benchmark (not a test): vrrpd and Debian's keepalived (-P, VRRP only) side by side in the netns lab,
// SIGKILL of the MASTER's daemon, timed from packet captures. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { prober, topo, REPO, type ClientProbe, type Lab } from './lib/lab.js';
import { calibrate, realtimeUs, waitUntilRealtime } from './lib/clock.js';
import { startCapture, type AdvertSeen, type ArpSeen, type Capture, type UdpSeen } from './lib/capture.js';
import { KeepalivedImpl, VrrpdImpl, PRIORITY, type Impl, type ImplName, type ModeSpec } from './lib/impl.js';
import { ms, prng, summary, table, type Summary } from './lib/stats.js';

const { createLab, daemonAvailable, installSignalHandlers, labSupported, reapOrphanLabs, waitFor, CLI, LAB_DIST, MAC, VIP, XOVER } = topo;
const { startProbe, startResponders, PROBE_PORT } = prober;

// ------------------------------------------------------------------------------------------ modes

interface Mode extends ModeSpec {
  /** RFC Master_Down_Interval of the backup (priority 90), ms. */
  mdiMs: number;
  /** Client probe interval, ms. */
  probeMs: number;
}

/** RFC 3768 §6.1 (v2: skew in seconds, not scaled) / RFC 5798 §6.1 (v3: skew scaled by the interval). */
function masterDownMs(version: 2 | 3, intervalMs: number, priority: number): number {
  const skew = version === 2 ? ((256 - priority) / 256) * 1000 : ((256 - priority) * intervalMs) / 256;
  return 3 * intervalMs + skew;
}

const MODES: Record<string, Mode> = Object.fromEntries(([
  ['v2-1s', 2, 1000, 5],
  ['v3-100ms', 3, 100, 2],
  ['v3-10ms', 3, 10, 1],
] as const).map(([name, version, intervalMs, probeMs]) => [name, { name, version, intervalMs, probeMs, mdiMs: masterDownMs(version, intervalMs, PRIORITY.lvs2) }]));

// ---------------------------------------------------------------------------------------- options

const USAGE = `Usage: npm run bench:failover -- [options]
       node build/bench/bench/failover.js [options]

Failover benchmark: vrrpd and keepalived (Debian's package, keepalived -P) in the netns lab, lvs1 (prio 100)
MASTER, lvs2 (prio 90) BACKUP; each fault is a SIGKILL of lvs1's daemon. Needs root, iproute2, tcpdump,
keepalived, and a built dist/ (npm run build).

Options:
  --faults N        faults per implementation and mode (default 10)
  --modes LIST      comma-separated, of ${Object.keys(MODES).join(', ')} (default: all)
  --only IMPL       vrrpd or keepalived (default: both)
  --json FILE       write every sample (raw timestamps, figures) and the summaries as JSON
  --keep DIR        keep the pcaps, configs and daemon logs of every block in DIR
  --rounds N        blocks per implementation and mode, alternating the two (default 2)
  --seed N          seed of the fault phases (default 1)
  --wait-quiet S    first wait up to S seconds for other labs (vl<pid>xxxx-* namespaces) to go away;
                    they compete for the 2 CPUs (default 0: only warn)
  -h, --help        this help
`;

const { values: opt } = parseArgs({
  options: {
    faults: { type: 'string', default: '10' },
    modes: { type: 'string', default: Object.keys(MODES).join(',') },
    only: { type: 'string' },
    json: { type: 'string' },
    keep: { type: 'string' },
    rounds: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    'wait-quiet': { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h' },
  },
});

function usage(msg: string): never {
  process.stderr.write(`bench:failover: ${msg}\n\n${USAGE}`);
  process.exit(2);
}

if (opt.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const FAULTS = Number(opt.faults);
if (!Number.isInteger(FAULTS) || FAULTS < 1 || FAULTS > 200) usage('--faults takes an integer 1-200');
const ROUNDS = Number(opt.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20) usage('--rounds takes an integer 1-20');
const SEED = Number(opt.seed);
if (!Number.isInteger(SEED)) usage('--seed takes an integer');
const WAIT_QUIET_S = Number(opt['wait-quiet']);
if (!(WAIT_QUIET_S >= 0 && WAIT_QUIET_S <= 3600)) usage('--wait-quiet takes 0-3600 seconds');
const modeNames = opt.modes!.split(',').map((s) => s.trim()).filter(Boolean);
for (const m of modeNames) if (!MODES[m]) usage(`unknown mode "${m}"`);
if (modeNames.length === 0) usage('--modes is empty');
const IMPLS: ImplName[] = opt.only === undefined ? ['vrrpd', 'keepalived'] : opt.only === 'vrrpd' || opt.only === 'keepalived' ? [opt.only] : usage('--only takes vrrpd or keepalived');

const log = (m: string) => process.stderr.write(`${m}\n`);

// ---------------------------------------------------------------------------------------- samples

interface Sample {
  mode: string;
  impl: ImplName;
  fault: number;
  round: number;
  /** Planned phase of the fault after the master's last advert, ms (the same list for both implementations). */
  plannedPhaseMs: number;
  /** Realtime µs: just before / after the kill() syscalls. */
  faultUs: number;
  killDoneUs: number;
  lastOldAdvertUs: number | null;
  firstNewAdvertUs: number | null;
  firstGarpUs: number | null;
  firstReplyUs: number | null;
  /** Figures, ms. */
  phaseMs: number | null;
  a: number | null;
  b: number | null;
  c: number | null;
  d: number | null;
  dDev: number | null;
  /** The new master's first GARP after its first advert, ms. */
  garpAfterAdvert: number | null;
  /** lvs1's advert periods minus the interval (ms) while it was the only MASTER before this fault. */
  masterPeriodDev: number[];
  newMasterPriority: number | null;
  newMasterIntervalCs: number | null;
  notes: string[];
}

const FIGURES = [
  { key: 'a', label: '(a) fault → new MASTER (1st advert)' },
  { key: 'b', label: '(b) fault → first GARP' },
  { key: 'c', label: '(c) fault → client 1st reply (new)' },
  { key: 'd', label: '(d) last old advert → new MASTER' },
  { key: 'dDev', label: '(d) − RFC Master_Down_Interval' },
  { key: 'garpAfterAdvert', label: '(info) first GARP − first advert' },
  { key: 'masterPeriodDev', label: '(info) MASTER advert period − interval' },
] as const;
type FigureKey = (typeof FIGURES)[number]['key'];

// ------------------------------------------------------------------------------------------ a block

interface BlockCtx {
  lab: Lab;
  mode: Mode;
  impl: Impl;
  vrrpCap: Capture;
  clientCap: Capture;
}

const adverts = (c: BlockCtx): AdvertSeen[] => c.vrrpCap.poll().filter((s) => s.kind === 'advert');
const clientFrames = (c: BlockCtx) => c.clientCap.poll();

/** Remove the VIP wherever a previous block (or a SIGKILLed daemon) left it. */
async function clearVips(lab: Lab): Promise<void> {
  for (const n of ['lvs1', 'lvs2'] as const) {
    if ((await lab.addresses(n, 'eth0')).some((a) => a.split('/')[0] === VIP)) {
      await lab.exec(n, ['ip', 'addr', 'del', `${VIP}/32`, 'dev', 'eth0'], { check: false, timeoutMs: 5000 });
    }
  }
}

/** Wait until lvs1 is the only MASTER (its adverts, no lvs2 advert for 2 intervals, the VIP on lvs1 only) for a while. */
async function waitLvs1Master(c: BlockCtx, sinceUs: number, timeoutMs: number): Promise<void> {
  const I = c.mode.intervalMs * 1000;
  const minSpan = Math.max(2 * I, 300_000);
  let holdersOk = false;
  let lastHolderCheck = 0;
  await waitFor(async () => {
    const adv = adverts(c);
    const now = realtimeUs();
    let lastLvs2 = -Infinity;
    for (const a of adv) if (a.src === XOVER.lvs2 && a.ts > lastLvs2) lastLvs2 = a.ts;
    const from = Math.max(sinceUs, lastLvs2);
    const ours = adv.filter((a) => a.src === XOVER.lvs1 && a.priority === PRIORITY.lvs1 && a.ts > from);
    if (ours.length < 2 || now - lastLvs2 < 2 * I) return false;
    if (ours.at(-1)!.ts - ours[0]!.ts < minSpan - I) return false;
    if (now - ours.at(-1)!.ts > 1.5 * I + 50_000) return false;
    // ip addr is a process spawn: check it at most every 200 ms.
    if (!holdersOk || now - lastHolderCheck > 200_000) {
      lastHolderCheck = now;
      const h = await c.lab.vipHolders(VIP);
      holdersOk = h.length === 1 && h[0] === 'lvs1';
    }
    return holdersOk;
  }, timeoutMs, Math.min(50, c.mode.intervalMs), `lvs1 to be the stable MASTER (${c.impl.name})`).catch((e: Error) => {
    throw new Error(`${e.message}\nlvs1 ${c.impl.tail('lvs1')}\nlvs2 ${c.impl.tail('lvs2')}`);
  });
}

/** When to SIGKILL: `phaseMs` after one of lvs1's next adverts, predicted from its recent ones, at least `leadMs` from now. */
function planFault(c: BlockCtx, phaseMs: number, leadMs: number): number {
  const ours = adverts(c).filter((a) => a.src === XOVER.lvs1).slice(-6);
  const last = ours.at(-1);
  if (!last) throw new Error('no advert from lvs1 to plan the fault on');
  const diffs = ours.slice(1).map((a, i) => a.ts - ours[i]!.ts).sort((x, y) => x - y);
  const period = diffs.length ? diffs[Math.floor(diffs.length / 2)]! : c.mode.intervalMs * 1000;
  const earliest = realtimeUs() + leadMs * 1000;
  let t = last.ts + phaseMs * 1000;
  for (let k = 0; k < 10_000 && t < earliest; k++) t += period;
  return t;
}

async function runFault(c: BlockCtx, fault: number, round: number, plannedPhaseMs: number, probe: ClientProbe | null, sinceUs: number): Promise<Sample> {
  const { mode, impl } = c;
  const I = mode.intervalMs;
  await impl.prepareKill('lvs1');
  calibrate();
  adverts(c);
  const target = planFault(c, plannedPhaseMs, Math.max(5, Math.min(40, I / 4)) + 3);
  await waitUntilRealtime(target);
  const faultUs = realtimeUs();
  impl.kill('lvs1');
  const killDoneUs = realtimeUs();
  const beforeFault = adverts(c).filter((a) => a.ts < faultUs);
  const lastLvs2 = beforeFault.filter((a) => a.src === XOVER.lvs2).at(-1)?.ts ?? -Infinity;
  const mastership = beforeFault.filter((a) => a.src === XOVER.lvs1 && a.ts > Math.max(sinceUs, lastLvs2));
  const masterPeriodDev = mastership.slice(1).map((a, i) => (a.ts - mastership[i]!.ts) / 1000 - I);

  const notes: string[] = [];
  const newMac = MAC.lvs2.eth0;
  const firstNewAdvert = () => adverts(c).find((a) => a.src === XOVER.lvs2 && a.ts >= faultUs) ?? null;
  const firstGarp = (): ArpSeen | null => (clientFrames(c).find((s) => s.kind === 'arp' && s.ts >= faultUs && s.srcMac === newMac && s.senderIp === VIP) as ArpSeen | undefined) ?? null;
  const firstReply = (): UdpSeen | null => (clientFrames(c).find((s) => s.kind === 'udp' && s.ts >= faultUs && s.srcMac === newMac && s.sport === PROBE_PORT) as UdpSeen | undefined) ?? null;
  const deadline = mode.mdiMs + 3000;
  try {
    // Poll the captures sparingly: this process shares the 2 CPUs with the daemons.
    await waitFor(() => firstNewAdvert() && firstGarp() && (probe === null || firstReply()), deadline, Math.min(20, Math.max(5, I / 5)), 'the new MASTER, its GARP and a reply from it');
  } catch (e) {
    notes.push((e as Error).message.split('\n')[0]!);
  }
  const adv = firstNewAdvert();
  const garp = firstGarp();
  const reply = probe ? firstReply() : null;
  const old = adverts(c).filter((a) => a.src === XOVER.lvs1 && a.ts < (adv?.ts ?? Infinity));
  const lastOld = old.at(-1) ?? null;
  if (lastOld && lastOld.ts > faultUs) notes.push(`lvs1 advert ${((lastOld.ts - faultUs) / 1000).toFixed(3)} ms after the kill`);
  if (lastOld && lastOld.priority === 0) notes.push('lvs1 sent a priority-0 advert');
  if (adv && adv.priority !== PRIORITY.lvs2) notes.push(`new master advertises priority ${adv.priority}`);
  if (adv && adv.intervalCs !== I / 10) notes.push(`new master advertises ${adv.intervalCs} cs`);
  if (adv && !adv.ok) notes.push(`new master's advert fails decoding: ${adv.detail}`);
  if (reply && reply.name !== 'lvs2') notes.push(`reply from lvs2's MAC names ${reply.name}`);
  const f = (x: number | null | undefined) => (x === null || x === undefined ? null : (x - faultUs) / 1000);
  const d = adv && lastOld ? (adv.ts - lastOld.ts) / 1000 : null;
  return {
    mode: mode.name, impl: impl.name, fault, round, plannedPhaseMs, faultUs, killDoneUs,
    lastOldAdvertUs: lastOld?.ts ?? null, firstNewAdvertUs: adv?.ts ?? null, firstGarpUs: garp?.ts ?? null, firstReplyUs: reply?.ts ?? null,
    phaseMs: lastOld ? (faultUs - lastOld.ts) / 1000 : null,
    a: f(adv?.ts), b: f(garp?.ts), c: f(reply?.ts), d, dDev: d === null ? null : d - mode.mdiMs,
    garpAfterAdvert: adv && garp ? (garp.ts - adv.ts) / 1000 : null,
    masterPeriodDev, newMasterPriority: adv?.priority ?? null, newMasterIntervalCs: adv?.intervalCs ?? null, notes,
  };
}

function describe(s: Sample): string {
  return `${s.mode} ${s.impl.padEnd(10)} #${String(s.fault + 1).padStart(2)}: phase ${ms(s.phaseMs)}  a ${ms(s.a)}  b ${ms(s.b)}  c ${ms(s.c)}  d ${ms(s.d)} (RFC ${ms(s.dDev, true)})${s.notes.length ? `  [${s.notes.join('; ')}]` : ''}`;
}

interface BlockResult { samples: Sample[]; lateTimerWarnings: Record<string, string[]> }

async function runBlock(lab: Lab, mode: Mode, impl: Impl, round: number, faults: number[], phases: number[], keepDir: string | null): Promise<BlockResult> {
  const tag = `${mode.name}-${impl.name}-r${round}`;
  const firstRun = { lvs1: impl.runCount('lvs1'), lvs2: impl.runCount('lvs2') };
  const lateTimerWarnings: Record<string, string[]> = {};
  const perFaultBoundS = 2 * mode.mdiMs / 1000 + 40;
  const capBound = faults.length * perFaultBoundS + 120;
  await clearVips(lab);
  const vrrpCap = await startCapture(lab, 'lvs2', 'eth1', 'ip proto 112', `${tag}-lvs2-eth1`, capBound);
  const clientCap = await startCapture(lab, 'client', 'eth0', `arp or (udp and src port ${PROBE_PORT})`, `${tag}-client-eth0`, capBound);
  const c: BlockCtx = { lab, mode, impl, vrrpCap, clientCap };
  const samples: Sample[] = [];
  let probe: ClientProbe | null = null;
  try {
    let sinceUs = realtimeUs();
    await Promise.all([impl.start('lvs2'), impl.start('lvs1')]);
    for (const fault of faults) {
      probe = await startProbe(lab, { intervalMs: mode.probeMs, durationMs: Math.ceil(perFaultBoundS * 1000) });
      await waitLvs1Master(c, sinceUs, 2 * mode.mdiMs + 15_000);
      await probe.waitServedBy('lvs1', 10_000, performance.now(), 5);
      const s = await runFault(c, fault, round, phases[fault]!, probe, sinceUs);
      samples.push(s);
      log(describe(s));
      await probe.stop();
      probe = null;
      await impl.reap('lvs1');
      sinceUs = realtimeUs();
      if (fault !== faults.at(-1)) await impl.start('lvs1');
    }
  } finally {
    if (probe) await probe.stop();
    await Promise.all([impl.stop('lvs1'), impl.stop('lvs2')]);
    await vrrpCap.stop();
    await clientCap.stop();
    await clearVips(lab).catch(() => undefined);
    for (const n of ['lvs1', 'lvs2'] as const) lateTimerWarnings[n] = impl.grep(n, /timer fired late/, firstRun[n]);
    if (keepDir) {
      const dir = join(keepDir, tag);
      mkdirSync(dir, { recursive: true });
      for (const f of readdirSync(lab.dir)) if (f.startsWith(tag) || f.endsWith('.conf') || f.endsWith('.yaml')) copyFileSync(join(lab.dir, f), join(dir, f));
      for (const n of ['lvs1', 'lvs2'] as const) writeFileSync(join(dir, `${n}.${impl.name}.log`), impl.logText(n, firstRun[n]));
    }
  }
  return { samples, lateTimerWarnings };
}

// ----------------------------------------------------------------------------------------- report

interface FigureRow { figure: FigureKey; label: string; byImpl: Partial<Record<ImplName, Summary | null>>; ratio: number | null; noWorse: boolean | null }
interface ModeReport {
  mode: string; version: number; intervalMs: number; mdiMs: number; probeMs: number; rows: FigureRow[];
  dDevP50: Partial<Record<ImplName, number | null>>; targetPass: boolean | null; noWorseAll: boolean | null;
  missing: Partial<Record<ImplName, number>>; vrrpdLateTimerWarnings: number; otherLabs: string[]; loadavg: number[];
}

const INFO_ONLY = new Set<FigureKey>(['garpAfterAdvert', 'masterPeriodDev']);

function reportMode(mode: Mode, samples: Sample[], extra: { lateTimers: string[]; otherLabs: string[]; loadavg: number[] }): { text: string; report: ModeReport } {
  const rows: FigureRow[] = [];
  const byImpl = (impl: ImplName, k: FigureKey) => samples.filter((s) => s.impl === impl).flatMap((s) => s[k]).filter((x): x is number => x !== null);
  for (const f of FIGURES) {
    const r: FigureRow = { figure: f.key, label: f.label, byImpl: {}, ratio: null, noWorse: null };
    for (const i of IMPLS) r.byImpl[i] = summary(byImpl(i, f.key));
    const v = r.byImpl.vrrpd;
    const k = r.byImpl.keepalived;
    if (v && k && !INFO_ONLY.has(f.key)) {
      r.ratio = k.median !== 0 ? v.median / k.median : null;
      // (d): the closer to the RFC value the better; (a)-(c): the sooner the better.
      const ref = f.key === 'd' ? mode.mdiMs : 0;
      r.noWorse = f.key === 'd' || f.key === 'dDev' ? Math.abs(v.median - ref) <= Math.abs(k.median - ref) : v.median <= k.median;
    }
    rows.push(r);
  }
  const dDevP50: Partial<Record<ImplName, number | null>> = {};
  for (const i of IMPLS) dDevP50[i] = summary(byImpl(i, 'dDev'))?.median ?? null;
  const vDev = dDevP50.vrrpd;
  const targetPass = vDev === undefined || vDev === null ? null : Math.abs(vDev) <= 0.5;
  const missing: Partial<Record<ImplName, number>> = {};
  for (const i of IMPLS) missing[i] = samples.filter((s) => s.impl === i && (s.a === null || s.b === null || s.c === null || s.d === null)).length;
  const judged = rows.filter((r) => r.noWorse !== null);
  const noWorseAll = IMPLS.length === 2 && judged.length ? judged.every((r) => r.noWorse) : null;

  const head = ['figure', 'impl', 'n', 'min ms', 'median ms', 'max ms', 'vrrpd/keepalived', 'vrrpd no worse'];
  const out: string[][] = [head];
  for (const r of rows) {
    IMPLS.forEach((i, idx) => {
      const s = r.byImpl[i];
      const signed = r.figure === 'dDev' || INFO_ONLY.has(r.figure);
      const last = idx === IMPLS.length - 1;
      out.push([idx === 0 ? r.label : '', i, String(s?.n ?? 0), ms(s?.min, signed), ms(s?.median, signed), ms(s?.max, signed),
        last && r.ratio !== null ? `${r.ratio.toFixed(3)}x` : '',
        last && r.noWorse !== null ? (r.noWorse ? 'PASS' : 'FAIL') : '']);
    });
  }
  const lines = [
    `== ${mode.name}: VRRPv${mode.version}, advert ${mode.intervalMs} ms, RFC Master_Down_Interval (prio 90) ${mode.mdiMs.toFixed(4)} ms; client probe every ${mode.probeMs} ms; ${FAULTS} faults each`,
    table(out),
  ];
  const verdicts: string[] = [];
  if (vDev !== undefined) verdicts.push(`(d) p50 deviation from RFC: vrrpd ${ms(vDev, true)} ms → ${targetPass === null ? 'n/a' : targetPass ? 'PASS' : 'FAIL'} (target |dev| ≤ 0.5 ms)`);
  if (dDevP50.keepalived !== undefined) verdicts.push(`keepalived ${ms(dDevP50.keepalived, true)} ms`);
  lines.push(verdicts.join('; '));
  if (noWorseAll !== null) {
    const worse = rows.filter((r) => r.noWorse === false).map((r) => r.figure);
    lines.push(`vrrpd no worse than keepalived on every figure (medians): ${worse.length ? `FAIL (${worse.join(', ')})` : 'PASS'}`);
  }
  const miss = IMPLS.filter((i) => (missing[i] ?? 0) > 0).map((i) => `${i} ${missing[i]}`);
  if (miss.length) lines.push(`faults with a figure missing: ${miss.join(', ')} (see the per-fault lines on stderr / --json notes)`);
  if (IMPLS.includes('vrrpd')) {
    const worst = extra.lateTimers.map((t) => { try { return Number((JSON.parse(t) as { latenessMs?: number }).latenessMs ?? 0); } catch { return 0; } });
    lines.push(`vrrpd "timer fired late" warnings during the mode: ${extra.lateTimers.length}${worst.length ? ` (worst ${Math.max(...worst).toFixed(3)} ms)` : ''}`);
  }
  lines.push(`load average at the end of the mode: ${extra.loadavg.map((x) => x.toFixed(2)).join(' ')}${extra.otherLabs.length ? `; WARNING: other labs were running (${extra.otherLabs.join(', ')}): timings disturbed` : ''}`);
  return {
    text: lines.join('\n'),
    report: { mode: mode.name, version: mode.version, intervalMs: mode.intervalMs, mdiMs: mode.mdiMs, probeMs: mode.probeMs, rows, dDevP50, targetPass, noWorseAll, missing, vrrpdLateTimerWarnings: extra.lateTimers.length, otherLabs: extra.otherLabs, loadavg: extra.loadavg },
  };
}

// ------------------------------------------------------------------------------------------- main

function preflight(): void {
  const lab = labSupported();
  if (!lab.ok) usage(lab.why!);
  if (!existsSync(CLI) || !existsSync(join(LAB_DIST, 'probe.js'))) usage('dist/ is not built: npm run build');
  if (IMPLS.includes('vrrpd') && !daemonAvailable()) usage('dist/cli.js has no `run` command');
  const need = ['tcpdump', 'timeout', ...(IMPLS.includes('keepalived') ? ['keepalived'] : [])];
  for (const t of need) {
    if (spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0) usage(`${t} is not installed (apt-get install -y keepalived tcpdump)`);
  }
}

/** Lab prefixes (namespaces vl<pid>xxxx-*) of other processes: they compete for the CPUs. */
function otherLabs(own: string | null): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5000 });
  const set = new Set<string>();
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^(vl\d+[a-z]{4})-(lvs1|lvs2|client|sw)\b/.exec(line);
    if (m && m[1] !== own) set.add(m[1]!);
  }
  return [...set];
}

async function main(): Promise<number> {
  preflight();
  installSignalHandlers(log);
  await reapOrphanLabs(log);
  if (WAIT_QUIET_S > 0 && otherLabs(null).length) {
    log(`waiting up to ${WAIT_QUIET_S} s for other labs to end: ${otherLabs(null).join(', ')}`);
    // Bounded: one check a second; quiet = no other lab for 10 s in a row.
    let quietSince: number | null = null;
    await waitFor(() => {
      const busy = otherLabs(null).length > 0;
      if (busy) quietSince = null;
      else quietSince ??= performance.now();
      return quietSince !== null && performance.now() - quietSince >= 10_000;
    }, WAIT_QUIET_S * 1000, 1000, 'other labs to end').catch(() => log('other labs still running: going on anyway'));
  }
  const keepDir = opt.keep ?? null;
  if (keepDir) mkdirSync(keepDir, { recursive: true });
  const kaVersion = IMPLS.includes('keepalived') ? (spawnSync('keepalived', ['--version'], { encoding: 'utf8' }).stderr.split('\n')[0] ?? '').trim() : null;
  const git = spawnSync('git', ['-C', REPO, 'describe', '--always', '--dirty'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const meta = {
    date: new Date().toISOString(), node: process.version, kernel: release(), cpus: cpus().length, loadavgStart: loadavg(),
    keepalived: kaVersion, git, faults: FAULTS, rounds: ROUNDS, seed: SEED, modes: modeNames, impls: IMPLS, otherLabsAtStart: otherLabs(null),
  };
  const say = (t: string) => process.stdout.write(`${t}\n`);
  say(`vrrpd failover benchmark — ${meta.date}; ${meta.cpus} CPUs, kernel ${meta.kernel}, node ${meta.node}${kaVersion ? `, ${kaVersion}` : ''}; vrrpd ${git}`);
  say(`fault = SIGKILL of lvs1's daemon (MASTER, prio 100); lvs2 (prio 90) takes over. Times from tcpdump on lvs2:eth1 (VRRP) and client:eth0 (GARP, replies), CLOCK_REALTIME µs.`);
  say(`${FAULTS} faults × ${IMPLS.join(' + ')} × ${modeNames.join(', ')}; fault phases (after the master's advert) stratified over 5-90 % of the interval, the same for both; load ${meta.loadavgStart.map((x) => x.toFixed(2)).join(' ')}`);
  if (meta.otherLabsAtStart.length) say(`WARNING: other labs are running (${meta.otherLabsAtStart.join(', ')}): they compete for the CPUs and disturb the timings`);
  say('');
  const t0 = performance.now();
  const all: Sample[] = [];
  const reports: ModeReport[] = [];
  const rand = prng(SEED);
  for (const [mi, name] of modeNames.entries()) {
    const mode = MODES[name]!;
    // Stratified phases in [5 %, 90 %] of the interval, shuffled; the same list for both implementations.
    const phases = Array.from({ length: FAULTS }, (_, i) => mode.intervalMs * (0.05 + (0.85 * (i + 0.5)) / FAULTS));
    for (let i = phases.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [phases[i], phases[j]] = [phases[j]!, phases[i]!];
    }
    const lab = await createLab({ log });
    const samples: Sample[] = [];
    const lateTimers: string[] = [];
    const others = new Set<string>(otherLabs(lab.prefix));
    try {
      await startResponders(lab);
      const impls: Record<ImplName, Impl> = { vrrpd: new VrrpdImpl(lab, mode), keepalived: new KeepalivedImpl(lab, mode) };
      const perRound = Array.from({ length: ROUNDS }, (_, r) => Array.from({ length: FAULTS }, (_, i) => i).filter((i) => i % ROUNDS === r)).filter((x) => x.length);
      for (const [r, faults] of perRound.entries()) {
        const order = (mi + r) % 2 === 0 ? IMPLS : [...IMPLS].reverse();
        for (const i of order) {
          log(`-- ${mode.name}: ${i}, round ${r + 1}/${perRound.length}, faults ${faults.map((f) => f + 1).join(',')}`);
          const b = await runBlock(lab, mode, impls[i], r, faults, phases, keepDir);
          samples.push(...b.samples);
          if (i === 'vrrpd') lateTimers.push(...Object.values(b.lateTimerWarnings).flat());
          for (const o of otherLabs(lab.prefix)) others.add(o);
        }
      }
    } finally {
      await lab.destroy();
    }
    all.push(...samples);
    const rep = reportMode(mode, samples.sort((x, y) => x.fault - y.fault), { lateTimers, otherLabs: [...others], loadavg: loadavg() });
    reports.push(rep.report);
    say(`${rep.text}\n`);
  }
  const elapsed = (performance.now() - t0) / 1000;
  say(`total ${elapsed.toFixed(0)} s`);
  if (opt.json) {
    writeFileSync(opt.json, `${JSON.stringify({ meta: { ...meta, elapsedS: elapsed }, reports, samples: all }, null, 1)}\n`);
    log(`samples written to ${opt.json}`);
  }
  return 0;
}

// On an error the labs are torn down by topology's exit hook (destroySync).
main().then((code) => process.exit(code), (e: unknown) => {
  log(`bench:failover: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
