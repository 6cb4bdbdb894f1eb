// Footprint benchmark (not a test): vrrpd and keepalived side by side in the netns lab, fed the same keepalived.conf:
// CPU (schedstat on-CPU ns), CPU per advert sent / received, wake-ups, RSS/PSS, SIGTERM → priority-0 advert.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { topo, REPO, type DirectorName, type Lab, type LabProcess } from './lib/lab.js';
import { realtimeUs } from './lib/clock.js';
import { startCapture } from './lib/capture.js';
import { table } from './lib/stats.js';

const { createLab, installSignalHandlers, labSupported, reapOrphanLabs, waitFor, sleep, CLI } = topo;

const USAGE = `Usage: npm run bench:footprint -- [options]

vrrpd and keepalived (Debian's, keepalived -P) one after the other in the netns lab, both fed the same
keepalived.conf (vrrpd runs it with -f): lvs1 (priority 100) is MASTER of every instance, lvs2 (90) BACKUP.
Per daemon and role: CPU seconds per minute (/proc/PID/task/*/schedstat, on-CPU ns), CPU per advert sent
(MASTER) / received (BACKUP) (eth1 packet counters), wake-ups per second (schedstat run counts, all threads),
RSS and PSS (/proc/PID/smaps_rollup, all processes of the daemon), and SIGTERM → first / last priority-0
advert on the wire (tcpdump on lvs2). Needs root, iproute2, tcpdump, keepalived, a built dist/.

Options:
  --modes LIST      of idle (1 instance, VRRPv2, 1 s), busy (50 instances, VRRPv3, 10 ms) (default: both)
  --window S        measuring window per block, seconds (default: idle 30, busy 20)
  --warmup S        wait after both daemons settled, before the window (default 3)
  --rounds N        blocks per daemon and mode, alternating (default 1)
  --only IMPL       vrrpd or keepalived
  --instances N     instances of the busy mode (default 50)
  --interval MS     advert interval of the busy mode, ms (default 10)
  --vrrpd-cli PATH  the vrrpd CLI to run (default: this repository's dist/cli.js), for before/after runs
  --node-flags=F    flags for node before the CLI (e.g. --node-flags="--max-semi-space-size=1"), space-separated
  --json FILE       write the figures as JSON
  -h, --help        this help
`;

const { values: opt } = parseArgs({
  options: {
    modes: { type: 'string', default: 'idle,busy' },
    window: { type: 'string' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '1' },
    only: { type: 'string' },
    instances: { type: 'string', default: '50' },
    interval: { type: 'string', default: '10' },
    'vrrpd-cli': { type: 'string' },
    'node-flags': { type: 'string', default: '' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

function usage(msg: string): never {
  process.stderr.write(`bench:footprint: ${msg}\n\n${USAGE}`);
  process.exit(2);
}
if (opt.help) { process.stdout.write(USAGE); process.exit(0); }

type ImplName = 'vrrpd' | 'keepalived';
interface Mode { name: string; instances: number; version: 2 | 3; intervalMs: number; windowS: number }
const N_BUSY = Number(opt.instances);
if (!Number.isInteger(N_BUSY) || N_BUSY < 1 || N_BUSY > 200) usage('--instances takes 1-200');
const WIN = opt.window === undefined ? null : Number(opt.window);
if (!(Number(opt.interval) >= 10 && Number(opt.interval) <= 40_950 && Number(opt.interval) % 10 === 0)) usage('--interval takes 10-40950 ms, in centiseconds');
if (WIN !== null && !(WIN >= 1 && WIN <= 600)) usage('--window takes 1-600 seconds');
const MODES: Record<string, Mode> = {
  idle: { name: 'idle', instances: 1, version: 2, intervalMs: 1000, windowS: WIN ?? 30 },
  busy: { name: 'busy', instances: N_BUSY, version: 3, intervalMs: Number(opt.interval), windowS: WIN ?? 20 },
};
const modeNames = opt.modes!.split(',').map((s) => s.trim()).filter(Boolean);
for (const m of modeNames) if (!MODES[m]) usage(`unknown mode "${m}"`);
const WARMUP_S = Number(opt.warmup);
if (!(WARMUP_S >= 0 && WARMUP_S <= 120)) usage('--warmup takes 0-120 seconds');
const ROUNDS = Number(opt.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 10) usage('--rounds takes 1-10');
const IMPLS: ImplName[] = opt.only === undefined ? ['vrrpd', 'keepalived'] : opt.only === 'vrrpd' || opt.only === 'keepalived' ? [opt.only] : usage('--only takes vrrpd or keepalived');
const VRRPD_CLI = opt['vrrpd-cli'] ?? CLI;
const NODE_FLAGS = opt['node-flags']!.split(/\s+/).filter(Boolean);
const log = (m: string) => process.stderr.write(`${m}\n`);
const say = (t: string) => process.stdout.write(`${t}\n`);

// ----------------------------------------------------------------------------------------- config

const PRIO: Record<DirectorName, number> = { lvs1: 100, lvs2: 90 };
/** The VIP of instance i (0-based): on the LAN interface, outside every lab address. */
const vipOf = (i: number) => `10.77.${Math.floor(i / 250)}.${(i % 250) + 1}`;

export function footprintConf(node: DirectorName, mode: Mode): string {
  const inst = Array.from({ length: mode.instances }, (_, i) => `vrrp_instance VI_${i + 1} {
    state BACKUP
    interface eth1
    virtual_router_id ${i + 1}
    priority ${PRIO[node]}
    advert_int ${mode.intervalMs / 1000}
    virtual_ipaddress {
        ${vipOf(i)}/32 dev eth0
    }
}
`);
  return `# bench:footprint ${mode.name}: ${mode.instances} instance(s), VRRPv${mode.version}, ${mode.intervalMs} ms
global_defs {
    router_id ${node.toUpperCase()}
    vrrp_version ${mode.version}
}

${inst.join('\n')}`;
}

// ------------------------------------------------------------------------------------------ /proc

interface ProcSample { cpuNs: number; runs: number; threads: number }

/** Sum of on-CPU ns and run counts over every thread of these processes (gone threads are not counted). */
function schedSample(pids: readonly number[]): ProcSample {
  let cpuNs = 0; let runs = 0; let threads = 0;
  for (const pid of pids) {
    let tids: string[];
    try { tids = readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const t of tids) {
      try {
        const f = readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
        cpuNs += f[0] ?? 0; runs += f[2] ?? 0; threads++;
      } catch { /* thread gone */ }
    }
  }
  return { cpuNs, runs, threads };
}

/** RSS and PSS (kB) summed over the processes, from smaps_rollup. */
function memSample(pids: readonly number[]): { rssKb: number; pssKb: number } {
  let rssKb = 0; let pssKb = 0;
  for (const pid of pids) {
    try {
      const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rssKb += Number(/^Rss:\s+(\d+)/m.exec(t)?.[1] ?? 0);
      pssKb += Number(/^Pss:\s+(\d+)/m.exec(t)?.[1] ?? 0);
    } catch { /* gone */ }
  }
  return { rssKb, pssKb };
}

/** eth1's packet counters as seen from inside the daemon's network namespace (/proc/PID/net/dev). */
function eth1Packets(pid: number): { rx: number; tx: number } {
  const t = readFileSync(`/proc/${pid}/net/dev`, 'utf8');
  const line = t.split('\n').find((l) => l.trim().startsWith('eth1:'));
  if (!line) throw new Error(`no eth1 in /proc/${pid}/net/dev`);
  const f = line.split(':')[1]!.trim().split(/\s+/).map(Number);
  return { rx: f[1]!, tx: f[9]! };
}

const comm = (pid: number): string | null => { try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return null; } };

async function nsPids(lab: Lab, node: DirectorName, name: string): Promise<number[]> {
  const r = await topo.run('ip', ['netns', 'pids', lab.ns(node)], { check: false, timeoutMs: 5000 });
  return r.stdout.split(/\s+/).filter(Boolean).map(Number).filter((p) => p > 1 && p !== process.pid && comm(p) === name);
}

// ----------------------------------------------------------------------------------------- a block

interface RoleFigures {
  role: 'MASTER' | 'BACKUP';
  cpuSPerMin: number;
  /** µs of CPU per advert sent (MASTER) or received (BACKUP). */
  cpuUsPerAdvert: number | null;
  adverts: number;
  wakeupsPerS: number;
  threads: number;
  rssMb: number;
  pssMb: number;
}
interface BlockFigures { healthy: boolean; impl: ImplName; mode: string; round: number; windowS: number; roles: RoleFigures[]; stopFirstMs: number | null; stopLastMs: number | null; stopAdverts: number }

function startDaemon(lab: Lab, impl: ImplName, node: DirectorName, conf: string): LabProcess {
  if (impl === 'vrrpd') {
    return lab.spawnIn(node, [process.execPath, ...NODE_FLAGS, VRRPD_CLI, 'run', '-f', conf, '--socket', lab.socketPath(node), '--log-level', 'warn'], `vrrpd@${node}`);
  }
  return lab.spawnIn(node, ['keepalived', '-n', '-l', '-D', '-P', '-f', conf, '-p', join(lab.dir, `${node}.ka.pid`), '-r', join(lab.dir, `${node}.ka-vrrp.pid`)], `keepalived@${node}`);
}

async function vipsOn(lab: Lab, node: DirectorName): Promise<Set<string>> {
  return new Set((await lab.addresses(node, 'eth0')).map((a) => a.split('/')[0]!));
}

async function runBlock(lab: Lab, mode: Mode, impl: ImplName, round: number): Promise<BlockFigures> {
  const conf: Record<DirectorName, string> = { lvs1: '', lvs2: '' };
  for (const n of ['lvs1', 'lvs2'] as const) {
    conf[n] = join(lab.dir, `${n}.${mode.name}.keepalived.conf`);
    writeFileSync(conf[n], footprintConf(n, mode));
  }
  // lvs1 first, lvs2 once lvs1 holds every VIP: no start-up election between two masters.
  const procs = { lvs1: startDaemon(lab, impl, 'lvs1', conf.lvs1), lvs2: null as LabProcess | null };
  try {
    const vips = Array.from({ length: mode.instances }, (_, i) => vipOf(i));
    await waitFor(async () => {
      if (!procs.lvs1.running) throw new Error(`${procs.lvs1.label} exited: ${procs.lvs1.tail(true) || procs.lvs1.tail(false)}`);
      const a = await vipsOn(lab, 'lvs1').catch(() => new Set<string>());
      return vips.every((v) => a.has(v));
    }, 60_000 + mode.instances * 400, 500, `${impl}: lvs1 alone MASTER of all ${mode.instances} instance(s)`);
    procs.lvs2 = startDaemon(lab, impl, 'lvs2', conf.lvs2);
    await sleep(2000);
    await waitFor(async () => {
      for (const p of [procs.lvs1, procs.lvs2!]) if (!p.running) throw new Error(`${p.label} exited: ${p.tail(true) || p.tail(false)}`);
      // ip can be slow on a loaded machine (rtnl): a failed look-up is just "not yet".
      const [a, b] = await Promise.all([vipsOn(lab, 'lvs1'), vipsOn(lab, 'lvs2')]).catch(() => [new Set<string>(), new Set<string>(['?'])]);
      return vips.every((v) => a!.has(v) && !b!.has(v));
    }, 60_000 + mode.instances * 400, 500, `${impl}: lvs1 MASTER of all ${mode.instances} instance(s)`).catch(async (e: Error) => {
      const held = await Promise.all([vipsOn(lab, 'lvs1'), vipsOn(lab, 'lvs2')]).catch(() => null);
      throw new Error(`${e.message}\nVIPs held: lvs1 ${held ? [...held[0]].join(' ') : '?'}; lvs2 ${held ? [...held[1]].join(' ') : '?'}\n${procs.lvs1.label}: ${procs.lvs1.tail(false, 15)}\n${procs.lvs1.tail(true, 15)}\n${procs.lvs2?.label}: ${procs.lvs2?.tail(false, 15)}\n${procs.lvs2?.tail(true, 15)}`);
    });
    await sleep(WARMUP_S * 1000);
    const name = impl === 'vrrpd' ? 'node' : 'keepalived';
    const pids = { lvs1: await nsPids(lab, 'lvs1', name), lvs2: await nsPids(lab, 'lvs2', name) };
    if (!pids.lvs1.length || !pids.lvs2.length) throw new Error(`${impl}: no ${name} process found`);
    const netPid = { lvs1: pids.lvs1[0]!, lvs2: pids.lvs2[0]! };
    const s0 = { lvs1: schedSample(pids.lvs1), lvs2: schedSample(pids.lvs2) };
    const n0 = { lvs1: eth1Packets(netPid.lvs1), lvs2: eth1Packets(netPid.lvs2) };
    const t0 = performance.now();
    await sleep(mode.windowS * 1000);
    const s1 = { lvs1: schedSample(pids.lvs1), lvs2: schedSample(pids.lvs2) };
    const n1 = { lvs1: eth1Packets(netPid.lvs1), lvs2: eth1Packets(netPid.lvs2) };
    const dt = (performance.now() - t0) / 1000;
    // Was lvs1 the only MASTER all along? lvs2 sends no advert as a BACKUP: its eth1 tx stays near 0.
    const lvs2Tx = n1.lvs2.tx - n0.lvs2.tx;
    const healthy = lvs2Tx <= 10 + dt && (await vipsOn(lab, 'lvs2').catch(() => new Set<string>())).size <= 1;
    if (!healthy) log(`   WARNING: ${impl}: lvs2 sent ${lvs2Tx} packets on eth1 during the window (a second MASTER): figures disturbed`);
    const roles: RoleFigures[] = (['lvs1', 'lvs2'] as const).map((n) => {
      const cpuNs = s1[n].cpuNs - s0[n].cpuNs;
      const adverts = n === 'lvs1' ? n1.lvs1.tx - n0.lvs1.tx : n1.lvs2.rx - n0.lvs2.rx;
      const mem = memSample(pids[n]);
      return {
        role: n === 'lvs1' ? 'MASTER' : 'BACKUP', cpuSPerMin: (cpuNs / 1e9) * (60 / dt), adverts,
        cpuUsPerAdvert: adverts > 0 ? cpuNs / 1e3 / adverts : null, wakeupsPerS: (s1[n].runs - s0[n].runs) / dt,
        threads: s1[n].threads, rssMb: mem.rssKb / 1024, pssMb: mem.pssKb / 1024,
      };
    });
    // SIGTERM of the MASTER's daemon → its priority-0 adverts on the wire (RFC 5798 §6.4.3), seen on lvs2.
    const cap = await startCapture(lab, 'lvs2', 'eth1', 'ip proto 112 and ip[22] = 0 and src host 172.16.1.251', `${mode.name}-${impl}-r${round}-stop`, 60);
    await sleep(200);
    const kill0 = realtimeUs();
    procs.lvs1.proc.kill('SIGTERM');
    await Promise.race([procs.lvs1.exited, sleep(5000)]);
    await sleep(300);
    await cap.stop();
    const zeros = cap.poll().filter((s) => s.kind === 'advert' && s.ts >= kill0);
    return {
      healthy, impl, mode: mode.name, round, windowS: dt, roles, stopAdverts: zeros.length,
      stopFirstMs: zeros.length ? (zeros[0]!.ts - kill0) / 1000 : null, stopLastMs: zeros.length ? (zeros.at(-1)!.ts - kill0) / 1000 : null,
    };
  } finally {
    for (const p of [procs.lvs1, procs.lvs2]) if (p?.running) await p.stop(3000);
    for (const n of ['lvs1', 'lvs2'] as const) {
      for (const pid of await nsPids(lab, n, impl === 'vrrpd' ? 'node' : 'keepalived')) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      for (const v of await vipsOn(lab, n)) if (v.startsWith('10.77.')) await lab.exec(n, ['ip', 'addr', 'del', `${v}/32`, 'dev', 'eth0'], { check: false });
    }
  }
}

// ------------------------------------------------------------------------------------------ report

const median = (xs: number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (x: number | null, d: number) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(d));

function report(mode: Mode, blocks: BlockFigures[]): string {
  const rows: string[][] = [['figure', 'role', ...IMPLS, ...(IMPLS.length === 2 ? ['vrrpd/keepalived'] : [])]];
  const fig = (label: string, role: 'MASTER' | 'BACKUP' | null, d: number, get: (b: BlockFigures, r: RoleFigures | null) => number | null) => {
    const vals = IMPLS.map((i) => median(blocks.filter((b) => b.impl === i).map((b) => get(b, role ? b.roles.find((r) => r.role === role)! : null)).filter((x): x is number => x !== null)));
    const [v, k] = vals;
    const ratio = vals.length === 2 && v !== null && v !== undefined && k ? `${(v / k).toFixed(2)}x` : '-';
    rows.push([label, role ?? '', ...vals.map((v) => fmt(v, d)), ...(IMPLS.length === 2 ? [ratio] : [])]);
  };
  for (const role of ['MASTER', 'BACKUP'] as const) {
    fig('CPU s per minute', role, 3, (_b, r) => r!.cpuSPerMin);
    fig(role === 'MASTER' ? 'CPU µs per advert sent' : 'CPU µs per advert received', role, 2, (_b, r) => r!.cpuUsPerAdvert);
    fig(role === 'MASTER' ? 'adverts sent / s' : 'adverts received / s', role, 1, (b, r) => r!.adverts / b.windowS);
    fig('wake-ups / s (all threads)', role, 1, (_b, r) => r!.wakeupsPerS);
    fig('RSS MB (all processes)', role, 1, (_b, r) => r!.rssMb);
    fig('PSS MB (all processes)', role, 1, (_b, r) => r!.pssMb);
    fig('threads', role, 0, (_b, r) => r!.threads);
  }
  fig('SIGTERM → first prio-0 advert ms', null, 3, (b) => b.stopFirstMs);
  fig(`SIGTERM → last prio-0 advert ms`, null, 3, (b) => b.stopLastMs);
  fig('prio-0 adverts seen', null, 0, (b) => b.stopAdverts);
  const sick = blocks.filter((b) => !b.healthy).map((b) => `${b.impl} round ${b.round + 1}`);
  if (sick.length) rows.push([`WARNING: a second MASTER during: ${sick.join(', ')}`]);
  return `== ${mode.name}: ${mode.instances} instance(s), VRRPv${mode.version}, advert ${mode.intervalMs} ms; window ${mode.windowS} s × ${ROUNDS} round(s) (medians)\n${table(rows)}`;
}

async function main(): Promise<number> {
  const lab0 = labSupported();
  if (!lab0.ok) usage(lab0.why!);
  if (!existsSync(VRRPD_CLI)) usage(`${VRRPD_CLI} does not exist: npm run build`);
  for (const t of ['tcpdump', 'timeout', ...(IMPLS.includes('keepalived') ? ['keepalived'] : [])]) {
    if (spawnSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0) usage(`${t} is not installed`);
  }
  installSignalHandlers(log);
  await reapOrphanLabs(log);
  const ka = IMPLS.includes('keepalived') ? (spawnSync('keepalived', ['--version'], { encoding: 'utf8' }).stderr.split('\n')[0] ?? '').trim() : '';
  const git = spawnSync('git', ['-C', REPO, 'describe', '--always', '--dirty'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  say(`vrrpd footprint benchmark — ${new Date().toISOString()}; ${cpus().length} CPUs, kernel ${release()}, node ${process.version}${ka ? `, ${ka}` : ''}; vrrpd ${git} (${VRRPD_CLI}${NODE_FLAGS.length ? ` with ${NODE_FLAGS.join(' ')}` : ''}); load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const all: BlockFigures[] = [];
  for (const [mi, name] of modeNames.entries()) {
    const mode = MODES[name]!;
    const lab = await createLab({ log });
    const blocks: BlockFigures[] = [];
    try {
      for (let r = 0; r < ROUNDS; r++) {
        for (const impl of (mi + r) % 2 === 0 ? IMPLS : [...IMPLS].reverse()) {
          log(`-- ${mode.name}: ${impl}, round ${r + 1}/${ROUNDS}`);
          const b = await runBlock(lab, mode, impl, r);
          log(`   ${b.roles.map((x) => `${x.role} ${x.cpuSPerMin.toFixed(3)} s/min ${fmt(x.cpuUsPerAdvert, 2)} µs/advert ${x.wakeupsPerS.toFixed(1)} wakeups/s RSS ${x.rssMb.toFixed(1)} MB`).join('; ')}; stop → prio 0 ${fmt(b.stopFirstMs, 3)} ms`);
          blocks.push(b);
        }
      }
    } finally {
      await lab.destroy();
    }
    all.push(...blocks);
    say(`${report(mode, blocks)}\nload average at the end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  }
  if (opt.json) writeFileSync(opt.json, `${JSON.stringify({ git, blocks: all }, null, 1)}\n`);
  return 0;
}

main().then((c) => process.exit(c), (e: unknown) => {
  log(`bench:footprint: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
