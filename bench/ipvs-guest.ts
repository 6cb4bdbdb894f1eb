// bench/ipvs, guest side (runs inside the test VM, as root, on a kernel with IPVS). Every measurement that applies
// the table from empty runs in a FRESH network namespace (IPVS state is per namespace): a table cleared with
// `ipvsadm -C` leaves its real servers in the kernel's destination trash for minutes, and every later add scans that
// list (ip_vs_trash_get_dest), which makes whoever goes second after a clear quadratically slower.
//
//   ipvs-guest.js                 orchestrator: generates the table and the rules file, then per run starts
//   ipvs-guest.js ours RUN        in a namespace: vrrpd's reconciler (desiredTable + IpvsReconciler.reconcile, as a
//                                 new MASTER does, with its verifying read-back); then a no-op reconcile, a one-weight
//                                 change, table reads, and (BENCH_FLAP=1) a clear + re-apply (the trash effect)
//   ipvs-guest.js ipvsadm RUN     in a namespace: `ipvsadm -R` of the rules file, verified with our reader (and
//                                 BENCH_FLAP=1: clear + restore again)
// Prints "PROGRESS ..." lines and, from the orchestrator, one "RESULT {json}" line. BENCH_PROFILE=1: the `ours`
// children run under node --cpu-prof (profiles in /tmp/bench-prof).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { virtualServerSchema, type VirtualServer } from '../src/config/schema.js';
import { IpvsClient, type IpvsOps } from '../src/ipvs/client.js';
import type { ServiceEntry } from '../src/ipvs/codec.js';
import { desiredTable, describeOp, planReconcile, IpvsReconciler, type DesiredService } from '../src/ipvs/reconcile.js';
import { generateVirtualServers, ipvsadmRules, tableStats, DEFAULT_DESTS, DEFAULT_SERVICES } from './ipvs-table.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SERVICES = Number(process.env.BENCH_SERVICES ?? DEFAULT_SERVICES);
const DESTS = Number(process.env.BENCH_DESTS ?? DEFAULT_DESTS);
const SEED = Number(process.env.BENCH_SEED ?? 1);
const FLAP = process.env.BENCH_FLAP === '1';
const RULES = '/tmp/bench-ipvs.rules';
const SELF = fileURLToPath(import.meta.url);

const now = (): number => performance.now();
const progress = (m: string): void => console.log(`PROGRESS ${m}`);

function sh(cmd: string, args: string[], stdinFile?: string): { ms: number; stdout: string } {
  const fd = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
  const t = now();
  const r = spawnSync(cmd, args, { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 256 << 20 });
  const ms = now() - t;
  if (typeof fd === 'number') closeSync(fd);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}: ${(r.stderr ?? '').slice(0, 2000)}`);
  return { ms, stdout: r.stdout };
}

const sortedHash = (text: string): string =>
  createHash('sha256').update(text.split('\n').filter(Boolean).sort().join('\n')).digest('hex').slice(0, 16);

function table(): { config: Record<string, VirtualServer>; desired: DesiredService[]; rules: string } {
  const input = generateVirtualServers(SERVICES, DESTS, SEED);
  const config = Object.fromEntries(Object.entries(input).map(([k, v]) => [k, virtualServerSchema.parse(v)]));
  const desired = desiredTable(config);
  return { config, desired, rules: ipvsadmRules(desired) };
}

export interface Reconciled {
  /** desiredTable + reconcile: what a new MASTER does. */
  totalMs: number;
  desiredMs: number;
  /** The dump before planning (0 when the reconciler planned against its verified table). */
  dumpBeforeMs: number;
  /** The targeted reads of the services to change, before planning (the cached path). */
  preReadMs: number;
  /** Planning and pre-encoding every operation (checkPlan). */
  planMs: number;
  /** First operation handed to the client -> last one answered (the netlink pipeline). */
  sendMs: number;
  /** The verifying read-back (a full dump, or only the services the plan touched). */
  readBackMs: number;
  ops: number;
}
export interface OursRun {
  ours: Reconciled;
  cpu: { userMs: number; sysMs: number };
  /** A second reconcile with nothing to do, against the verified table (no request). */
  noop: Reconciled;
  /** The same with a full dump (the audit; every sync did this before the verified table was kept). */
  noopFull: Reconciled;
  oneWeight: Reconciled;
  /** One weight changed, with a full dump first (as every sync did before). */
  oneWeightFull: Reconciled;
  ourListMs: number;
  ipvsadmListMs: number;
  /** BENCH_FLAP: ipvsadm -C, then the same apply again in the same namespace (the kernel's destination trash is full). */
  afterClear?: { clearMs: number; reapply: Reconciled };
}
export interface IpvsadmRun {
  restoreMs: number;
  afterClear?: { clearMs: number; restoreMs: number };
}

// ------------------------------------------------------------------------------------- in a namespace

async function verify(client: IpvsClient, desired: DesiredService[], what: string, rulesHash: string | null): Promise<void> {
  const got = await client.listServices();
  const diff = planReconcile(desired, got, new Set()).ops;
  const dests = got.reduce((a, s) => a + s.dests.length, 0);
  if (diff.length > 0 || got.length !== desired.length || dests !== DESTS) {
    throw new Error(`${what}: the kernel's table differs: ${got.length} services, ${dests} dests, ${diff.length} ops off (${diff.slice(0, 3).map(describeOp).join('; ')})`);
  }
  if (rulesHash) {
    const saved = sh('ipvsadm', ['-Sn']);
    const h = sortedHash(saved.stdout);
    if (h !== rulesHash) throw new Error(`${what}: ipvsadm -Sn differs from the rules file (sorted sha256 ${h} vs ${rulesHash})`);
    progress(`${what}: verified (our reader; ipvsadm -Sn equals the rules file)`);
  }
}

/** The client, timing the dumps, the per-service reads, and the span from the first operation to the last answer. */
function timedOps(client: IpvsClient): { ops: IpvsOps; dumps: number[]; gets: () => number; preRead: () => number; span: () => number; reset: () => void } {
  const dumps: number[] = [];
  let first = 0;
  let last = 0;
  let n = 0;
  let getFirst = 0;
  let getLast = 0;
  let preLast = 0;
  const op = <T>(f: () => Promise<T>): Promise<T> => {
    if (n++ === 0) first = now();
    return f().finally(() => { last = now(); });
  };
  return {
    dumps,
    span: () => (n === 0 ? 0 : last - first),
    reset: () => { dumps.length = 0; first = last = n = getFirst = getLast = preLast = 0; },
    gets: () => getLast - getFirst,
    preRead: () => (preLast === 0 ? 0 : preLast - getFirst),
    ops: {
      listServices: async () => {
        const t = now();
        const r = await client.listServices();
        dumps.push(now() - t);
        return r;
      },
      getService: async (id): Promise<ServiceEntry | null> => {
        if (getFirst === 0) getFirst = now();
        const before = n === 0;
        const r = await client.getService(id);
        getLast = now();
        if (before) preLast = getLast;
        return r;
      },
      sendPrepared: (r, context, scheduler) => op(() => client.sendPrepared(r, context, scheduler)),
      addService: (s) => op(() => client.addService(s)),
      editService: (s) => op(() => client.editService(s)),
      deleteService: (s) => op(() => client.deleteService(s)),
      addDest: (s, d) => op(() => client.addDest(s, d)),
      editDest: (s, d) => op(() => client.editDest(s, d)),
      deleteDest: (s, d) => op(() => client.deleteDest(s, d)),
    },
  };
}

async function reconcileTimed(client: IpvsClient, cfg: Record<string, VirtualServer>, adopt?: DesiredService[], full = false): Promise<Reconciled & { desired: DesiredService[] }> {
  const t = timedOps(client);
  const reconciler = new IpvsReconciler(t.ops);
  if (adopt) {
    await reconciler.reconcile(adopt); // ownership and the verified table, as after the first reconcile (untimed)
    t.reset();
  }
  const t0 = now();
  const desired = desiredTable(cfg);
  const t1 = now();
  const r = await reconciler.reconcile(desired, { full });
  const t2 = now();
  if (!r.ok) {
    throw new Error(`reconcile failed: ${r.failed.length} failed (${r.failed.slice(0, 3).map((f) => `${describeOp(f.op)}: ${f.error.message}`).join('; ')}), `
      + `${r.residual.length} residual (${r.residual.slice(0, 3).map(describeOp).join('; ')})`);
  }
  // A dump before planning, unless the reconciler planned against its verified table (then a dump is the read-back).
  const [dumpBefore = 0, fullReadBack = 0] = r.read === 'dump' ? t.dumps : [0, ...t.dumps];
  const preRead = t.preRead();
  const readBack = fullReadBack || Math.max(0, t.gets() - preRead);
  const sendMs = t.span();
  return {
    desired, totalMs: t2 - t0, desiredMs: t1 - t0, dumpBeforeMs: dumpBefore, preReadMs: preRead, readBackMs: readBack, sendMs,
    planMs: t2 - t1 - dumpBefore - preRead - readBack - sendMs, ops: r.plan.ops.length,
  };
}
const strip = ({ desired: _d, ...r }: Reconciled & { desired: DesiredService[] }): Reconciled => r;
const brief = (r: Reconciled): string => JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v)])));

async function oursChild(run: number): Promise<void> {
  const { config, rules } = table();
  const client = await IpvsClient.open(); // as the daemon opens it (IpvsController.open): default window and timeouts
  const cpu0 = process.cpuUsage();
  const first = await reconcileTimed(client, config);
  const cpu = process.cpuUsage(cpu0);
  if (first.ops !== SERVICES + DESTS) throw new Error(`ours applied ${first.ops} operations, not ${SERVICES + DESTS}`);
  progress(`run ${run}: vrrpd reconcile ${(first.totalMs / 1000).toFixed(2)} s ${brief(strip(first))}; CPU user ${(cpu.user / 1e6).toFixed(2)} s, sys ${(cpu.system / 1e6).toFixed(2)} s`);
  await verify(client, first.desired, 'vrrpd reconcile', run === 1 ? sortedHash(rules) : null);

  const noop = await reconcileTimed(client, config, first.desired);
  if (noop.ops !== 0) throw new Error(`the second reconcile sent ${noop.ops} operations`);
  const noopFull = await reconcileTimed(client, config, first.desired, true);
  if (noopFull.ops !== 0) throw new Error(`the second reconcile (full) sent ${noopFull.ops} operations`);
  const name = Object.keys(config)[Math.floor(SERVICES / 2)]!;
  const vs = config[name]!;
  const changed = { ...config, [name]: { ...vs, realServers: vs.realServers.map((rs, j) => (j === 0 ? { ...rs, weight: rs.weight + 1 } : rs)) } };
  const oneWeightFull = await reconcileTimed(client, changed, first.desired, true);
  if (oneWeightFull.ops !== 1) throw new Error(`a one-weight change (full) sent ${oneWeightFull.ops} operations`);
  // The same change again from the original table (adopt re-applies it first, untimed), against the verified table.
  const oneWeight = await reconcileTimed(client, changed, first.desired);
  if (oneWeight.ops !== 1) throw new Error(`a one-weight change sent ${oneWeight.ops} operations`);
  progress(`run ${run}: no-op ${(noop.totalMs / 1000).toFixed(2)} s (full dump ${(noopFull.totalMs / 1000).toFixed(2)} s), one weight ${(oneWeight.totalMs / 1000).toFixed(2)} s ${brief(strip(oneWeight))} (full dump ${(oneWeightFull.totalMs / 1000).toFixed(2)} s)`);

  const tl = now();
  await client.listServices();
  const ourListMs = now() - tl;
  const ipvsadmListMs = sh('ipvsadm', ['-Ln']).ms;
  const out: OursRun = { ours: strip(first), cpu: { userMs: cpu.user / 1000, sysMs: cpu.system / 1000 }, noop: strip(noop), noopFull: strip(noopFull), oneWeight: strip(oneWeight), oneWeightFull: strip(oneWeightFull), ourListMs, ipvsadmListMs };
  if (FLAP) {
    const clearMs = sh('ipvsadm', ['-C']).ms;
    const reapply = await reconcileTimed(client, config);
    progress(`run ${run}: after ipvsadm -C in the same namespace, vrrpd re-applies in ${(reapply.totalMs / 1000).toFixed(2)} s`);
    out.afterClear = { clearMs, reapply: strip(reapply) };
  }
  client.close();
  console.log(`CHILD ${JSON.stringify(out)}`);
}

async function ipvsadmChild(run: number): Promise<void> {
  const { desired, rules } = table();
  const restoreMs = sh('ipvsadm', ['-R'], RULES).ms;
  progress(`run ${run}: ipvsadm -R ${(restoreMs / 1000).toFixed(2)} s`);
  const client = await IpvsClient.open();
  await verify(client, desired, 'ipvsadm -R', run === 1 ? sortedHash(rules) : null);
  const out: IpvsadmRun = { restoreMs };
  if (FLAP) {
    const clearMs = sh('ipvsadm', ['-C']).ms;
    const again = sh('ipvsadm', ['-R'], RULES).ms;
    progress(`run ${run}: after ipvsadm -C in the same namespace, ipvsadm -R again in ${(again / 1000).toFixed(2)} s`);
    out.afterClear = { clearMs, restoreMs: again };
  }
  client.close();
  console.log(`CHILD ${JSON.stringify(out)}`);
}

// ------------------------------------------------------------------------------------- orchestrator

/** Run this script's `mode` in a fresh network namespace; its CHILD line parsed, its PROGRESS lines passed on. */
function inFreshNamespace<T>(mode: string, run: number): Promise<T> {
  const ns = `bench-${mode}-${run}`;
  sh('ip', ['netns', 'add', ns]);
  // With no address at all the namespace has no local routing table yet, and ip_vs_new_dest() refuses every IPv4
  // real server with EINVAL (inet_addr_type() answers RTN_BROADCAST without a table): lo up, as on any real box.
  sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  return new Promise((res, rej) => {
    const prof = process.env.BENCH_PROFILE === '1' && mode === 'ours' ? ['--cpu-prof', '--cpu-prof-dir=/tmp/bench-prof'] : [];
    const p = spawn('ip', ['netns', 'exec', ns, process.execPath, ...prof, SELF, mode, String(run)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    let result: T | null = null;
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('CHILD ')) result = JSON.parse(line.slice(6)) as T;
        else console.log(line);
      }
    });
    p.on('close', (code) => (result && code === 0 ? res(result) : rej(new Error(`${mode} run ${run} in ${ns}: exit ${code}`))));
    // The namespace is left in place: deleting one with 37k real servers makes the kernel busy in the background.
  });
}

async function orchestrate(): Promise<void> {
  progress(`generating ${SERVICES} services, ${DESTS} real servers (seed ${SEED})`);
  const { desired, rules } = table();
  const stats = tableStats(desired);
  if (stats.services !== SERVICES || stats.dests !== DESTS) throw new Error(`generated ${stats.services}/${stats.dests}`);
  writeFileSync(RULES, rules);
  progress(`table: ${JSON.stringify(stats)}; rules file ${rules.split('\n').length - 1} lines, ${(rules.length / 1024).toFixed(0)} KiB`);
  const runs: { ours: OursRun; ipvsadm: IpvsadmRun; order: string }[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const ipvsadmFirst = i % 2 === 0;
    let ours: OursRun;
    let adm: IpvsadmRun;
    if (ipvsadmFirst) {
      adm = await inFreshNamespace<IpvsadmRun>('ipvsadm', i);
      ours = await inFreshNamespace<OursRun>('ours', i);
    } else {
      ours = await inFreshNamespace<OursRun>('ours', i);
      adm = await inFreshNamespace<IpvsadmRun>('ipvsadm', i);
    }
    runs.push({ ours, ipvsadm: adm, order: ipvsadmFirst ? 'ipvsadm first' : 'vrrpd first' });
  }
  console.log(`RESULT ${JSON.stringify({ stats, runs, rulesLines: rules.split('\n').length - 1, node: process.version, flap: FLAP,
    kernel: sh('uname', ['-r']).stdout.trim(), ipvsadm: sh('ipvsadm', ['--version']).stdout.trim() })}`);
}

const [mode, runArg] = process.argv.slice(2);
if (mode === 'ours') await oursChild(Number(runArg));
else if (mode === 'ipvsadm') await ipvsadmChild(Number(runArg));
else await orchestrate();
