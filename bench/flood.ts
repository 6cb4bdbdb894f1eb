// Flood benchmark (not a test): a vrrpd pair and a keepalived pair, one after the other in a fresh lab each, under the same
// junk flood from the client (scripts/vrrp-flood.py) on the VRRP segment; state changes, CPU, drops by reason, kernel queue drops.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpus, loadavg } from 'node:os';
import { topo, REPO, type DirectorName, type Lab } from './lib/lab.js';
import { KeepalivedImpl, VrrpdImpl, VRID, type Impl, type ImplName } from './lib/impl.js';

const { createLab, daemonAvailable, installSignalHandlers, labSupported, reapOrphanLabs, run, sleep, LAN } = topo;
const FLOOD = join(REPO, 'scripts', 'vrrp-flood.py');
const NODES: DirectorName[] = ['lvs1', 'lvs2'];

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    rate: { type: 'string', default: '50000' },
    /** Advert intervals to run, ms. */
    adverts: { type: 'string', default: '100,10' },
    impls: { type: 'string', default: 'vrrpd,keepalived' },
    /** Real-time priority for both daemons (the systemd unit runs vrrpd at 50); 0: the normal scheduler. */
    rt: { type: 'string', default: '50' },
  },
});
const SECONDS = Number(values.seconds);
const RATE = Number(values.rate);

/** On-CPU time of every thread of every process of the director's daemon (schedstat, ns). */
async function daemonCpuNs(lab: Lab, node: DirectorName): Promise<number> {
  const r = await run('ip', ['netns', 'pids', lab.ns(node)], { check: false, timeoutMs: 5000 });
  let ns = 0;
  for (const pid of r.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    let comm: string;
    try { comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { continue; }
    if (comm !== 'node' && comm !== 'keepalived') continue;
    try {
      for (const t of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch { /* exited */ }
  }
  return ns;
}

/** Packets the kernel dropped on full raw-socket receive queues in the namespace (/proc/net/raw, last column). */
async function rawQueueDrops(lab: Lab, node: DirectorName): Promise<number> {
  const r = await run('ip', ['netns', 'exec', lab.ns(node), 'cat', '/proc/net/raw'], { check: false, timeoutMs: 5000 });
  return r.stdout.split('\n').slice(1).filter(Boolean).reduce((a, l) => a + Number(l.trim().split(/\s+/).at(-1)), 0);
}

const STATE_RE: Record<ImplName, RegExp> = {
  vrrpd: /"to":"(MASTER|BACKUP|FAULT|INIT)"/,
  keepalived: /Entering (MASTER|BACKUP|FAULT) STATE/,
};

/** Drops by reason: vrrpd's status; keepalived keeps no per-reason counters we can read without its stats dump. */
async function dropsByReason(lab: Lab, impl: Impl, node: DirectorName): Promise<Record<string, number> | null> {
  if (impl.name !== 'vrrpd') return null;
  const s = await lab.status(node);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.daemon.drops)) if (v) out[k] = v;
  for (const [k, v] of Object.entries(s.instances[0]!.counters.drops as Record<string, number>)) if (v) out[`instance:${k}`] = v;
  return out;
}

interface Row {
  impl: ImplName; advertMs: number; sent: number; pps: number;
  transitions: Record<DirectorName, number>; states: Record<DirectorName, string>;
  cpu: Record<DirectorName, number>; queueDrops: Record<DirectorName, number>; drops: Record<DirectorName, Record<string, number> | null>;
}

async function once(implName: ImplName, advertMs: number): Promise<Row> {
  const lab = await createLab();
  try {
    const mode = { name: `flood ${advertMs} ms`, version: 3 as const, intervalMs: advertMs, iface: 'eth0' as const, rtPriority: Number(values.rt) };
    const impl: Impl = implName === 'vrrpd' ? new VrrpdImpl(lab, mode) : new KeepalivedImpl(lab, mode);
    await impl.start('lvs1');
    await sleep(Math.max(1000, 4 * advertMs));
    await impl.start('lvs2');
    await sleep(Math.max(2000, 10 * advertMs));
    const count = (n: DirectorName) => impl.grep(n, STATE_RE[implName]).length;
    const base = { lvs1: count('lvs1'), lvs2: count('lvs2') };
    const q0 = { lvs1: await rawQueueDrops(lab, 'lvs1'), lvs2: await rawQueueDrops(lab, 'lvs2') };
    const c0 = { lvs1: await daemonCpuNs(lab, 'lvs1'), lvs2: await daemonCpuNs(lab, 'lvs2') };
    const t0 = performance.now();
    const flood = lab.spawnIn('client', ['python3', FLOOD, 'eth0', LAN.client, String(VRID), String(RATE), String(SECONDS)], 'flood@client');
    const done = await flood.waitLine((l) => l.startsWith('{'), (SECONDS + 30) * 1000);
    const wallNs = (performance.now() - t0) * 1e6;
    const sent = JSON.parse(done.text) as { sent: number; pps: number };
    const row: Row = {
      impl: implName, advertMs, sent: sent.sent, pps: sent.pps,
      transitions: { lvs1: count('lvs1') - base.lvs1, lvs2: count('lvs2') - base.lvs2 },
      states: { lvs1: '', lvs2: '' },
      cpu: { lvs1: ((await daemonCpuNs(lab, 'lvs1')) - c0.lvs1) / wallNs, lvs2: ((await daemonCpuNs(lab, 'lvs2')) - c0.lvs2) / wallNs },
      queueDrops: { lvs1: (await rawQueueDrops(lab, 'lvs1')) - q0.lvs1, lvs2: (await rawQueueDrops(lab, 'lvs2')) - q0.lvs2 },
      drops: { lvs1: await dropsByReason(lab, impl, 'lvs1'), lvs2: await dropsByReason(lab, impl, 'lvs2') },
    };
    for (const n of NODES) {
      const last = impl.grep(n, STATE_RE[implName]).at(-1) ?? '';
      row.states[n] = STATE_RE[implName].exec(last)?.[1] ?? '?';
    }
    for (const n of NODES) await impl.stop(n);
    return row;
  } finally {
    await lab.destroy();
  }
}

async function main(): Promise<void> {
  const ok = labSupported();
  if (!ok.ok) throw new Error(`lab not supported: ${ok.why}`);
  if (!daemonAvailable()) throw new Error('dist/cli.js is not built: npm run build');
  installSignalHandlers();
  await reapOrphanLabs();
  const impls = values.impls.split(',') as ImplName[];
  const adverts = values.adverts.split(',').map(Number);
  console.log(`flood: ${SECONDS} s at ${RATE} packets/s from the client on the VRRP segment (eth0), VRRPv3, adverts ${adverts.join(", ")} ms, real-time priority ${values.rt}; ${cpus().length} CPUs, load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const rows: Row[] = [];
  for (const a of adverts) {
    for (const i of impls) {
      const r = await once(i, a);
      rows.push(r);
      console.log(JSON.stringify(r));
    }
  }
  console.log('\nimpl        advert  flood sent (pps)     transitions lvs1/lvs2  final states     CPU lvs1/lvs2   kernel queue drops');
  for (const r of rows) {
    console.log(`${r.impl.padEnd(11)} ${String(r.advertMs).padStart(4)} ms  ${String(r.sent).padStart(8)} (${String(r.pps).padStart(6)})  `
      + `${`${r.transitions.lvs1}/${r.transitions.lvs2}`.padStart(10)}             ${`${r.states.lvs1}/${r.states.lvs2}`.padEnd(15)}  `
      + `${(100 * r.cpu.lvs1).toFixed(1).padStart(5)}%/${(100 * r.cpu.lvs2).toFixed(1)}%    ${r.queueDrops.lvs1}/${r.queueDrops.lvs2}`);
  }
  console.log('\ndrops by reason (vrrpd status; keepalived: not readable per reason):');
  for (const r of rows) if (r.drops.lvs1) console.log(`  ${r.impl} ${r.advertMs} ms lvs1 ${JSON.stringify(r.drops.lvs1)}\n  ${r.impl} ${r.advertMs} ms lvs2 ${JSON.stringify(r.drops.lvs2)}`);
}

await main();
