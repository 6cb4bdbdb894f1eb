// IPVS apply benchmark (not a test): vrrpd's reconciler vs `ipvsadm -R` applying the same big table (2,284 services,
// 37,298 real servers: a size keepalived users reported) from empty, in the test VM (this host's kernel has no IPVS).
// See bench/ipvs.md. The guest side is bench/ipvs-guest.ts; the table is bench/ipvs-table.ts.
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { summary, table } from './lib/stats.js';
import { optionChecks, runGuest } from './lib/vm-bench.js';
import { DEFAULT_DESTS, DEFAULT_SERVICES, type TableStats } from './ipvs-table.js';
import type { IpvsadmRun, OursRun } from './ipvs-guest.js';

const USAGE = `Usage: npm run bench:ipvs -- [options]
       node build/bench/bench/ipvs.js [options]

Applies one generated IPVS table from empty, in the test VM (test/vm: Debian kernel with IPVS under qemu), with
vrrpd's reconciler (desiredTable + IpvsReconciler.reconcile, as a new MASTER does, with its verifying read-back)
and with \`ipvsadm -R\` of the same table; prints both, the ratio, a no-op reconcile and a one-weight change.
Needs root (the VM), and dist/ + build/bench built (npm run bench:ipvs does both).

Options:
  --runs N          runs of each (median reported; default 3)
  --services N      virtual services (default ${DEFAULT_SERVICES})
  --dests N         real servers in all (default ${DEFAULT_DESTS})
  --seed N          table generator seed (default 1)
  --json FILE       write the raw results as JSON
  --timeout S       bound on the VM run (default: 300 + 300 per run at full size)
  --flap            also: ipvsadm -C, then apply again in the same namespace (both tools): the kernel keeps
                    removed real servers in a trash list for minutes and every add scans it (a BACKUP that
                    removed a big table and becomes MASTER again soon pays this)
  --profile         also run vrrpd's side under node --cpu-prof and print the top functions by self time
  -h, --help        this help
`;

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    services: { type: 'string', default: String(DEFAULT_SERVICES) },
    dests: { type: 'string', default: String(DEFAULT_DESTS) },
    seed: { type: 'string', default: '1' },
    json: { type: 'string' },
    timeout: { type: 'string' },
    profile: { type: 'boolean' },
    flap: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
const { usage, int } = optionChecks('bench:ipvs', USAGE);
if (opt.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const RUNS = int('runs', opt.runs, 1, 20);
const SERVICES = int('services', opt.services, 1, 100_000);
const DESTS = int('dests', opt.dests, SERVICES, 1_000_000);
const SEED = int('seed', opt.seed, 0, 2 ** 31);
const scale = Math.max(0.05, DESTS / DEFAULT_DESTS);
const TIMEOUT_S = opt.timeout === undefined ? Math.ceil(300 + (opt.flap ? 600 : 300) * RUNS * scale) : int('timeout', opt.timeout, 10, 86_400);

const GUEST = join(dirname(fileURLToPath(import.meta.url)), 'ipvs-guest.js');
if (process.getuid?.() !== 0) usage('needs root (the test VM: apt, qemu exporting /)');
if (!existsSync(GUEST)) usage(`${GUEST} is not built: npm run bench:ipvs builds it`);

const log = (m: string): void => { process.stderr.write(`${m}\n`); };

interface Run { ours: OursRun; ipvsadm: IpvsadmRun; order: string }
interface Result { stats: TableStats; runs: Run[]; rulesLines: number; node: string; kernel: string; ipvsadm: string; flap: boolean }

async function runIpvsGuest(): Promise<{ result: Result | null; code: number; profile: string[] }> {
  // The guest sees the host's files read-only at the same paths (the build included); it writes to its own tmpfs.
  const script = `set -u
node ${GUEST}
code=$?
${opt.profile ? `for f in $(ls -S /tmp/bench-prof/*.cpuprofile | head -1); do node ${join(dirname(GUEST), 'ipvs-profile.js')} "$f" 40; done` : ''}
exit $code`;
  const env = { BENCH_RUNS: RUNS, BENCH_SERVICES: SERVICES, BENCH_DESTS: DESTS, BENCH_SEED: SEED, BENCH_FLAP: opt.flap ? 1 : 0, BENCH_PROFILE: opt.profile ? 1 : 0 };
  log(`bench:ipvs: booting the test VM (bound ${TIMEOUT_S} s): ${RUNS} run(s) of ${SERVICES} services / ${DESTS} real servers`);
  const profile: string[] = [];
  const { result, code } = await runGuest<Result>(script, env, TIMEOUT_S, (l) => {
    if (!opt.profile || !/^\s*(total|[\d.]+ ms)/.test(l)) return false;
    profile.push(l);
    return true;
  });
  return { result, code, profile };
}

const { result, code, profile } = await runIpvsGuest();
if (!result) {
  log(`bench:ipvs: the guest gave no result (exit ${code})`);
  process.exit(1);
}
const r: Result = result;
if (opt.json) writeFileSync(opt.json, `${JSON.stringify(r, null, 2)}\n`);

const s = (ms: number): string => (ms / 1000).toFixed(2);
const med = (xs: number[]): number => summary(xs)!.median;
const rows: string[][] = [['', ...r.runs.map((_, i) => `run ${i + 1}`), 'median']];
const row = (label: string, f: (x: Run) => number): void => {
  const xs = r.runs.map(f);
  rows.push([label, ...xs.map(s), s(med(xs))]);
};
row('vrrpd: new MASTER applies the table (s)', (x) => x.ours.ours.totalMs);
row('  desiredTable (config -> table)', (x) => x.ours.ours.desiredMs);
row('  dump before planning', (x) => x.ours.ours.dumpBeforeMs);
row('  plan + pre-encode', (x) => x.ours.ours.planMs);
row('  send -> all acked (netlink pipeline)', (x) => x.ours.ours.sendMs);
row('  read-back verify (full dump)', (x) => x.ours.ours.readBackMs);
row('ipvsadm -R (s)', (x) => x.ipvsadm.restoreMs);
const total = (x: Run): number => x.ours.ours.totalMs;
const ratio = (label: string, f: (x: Run) => number): void => {
  const xs = r.runs.map((x) => f(x) / x.ipvsadm.restoreMs);
  rows.push([label, ...xs.map((x) => `${x.toFixed(2)}x`), `${(med(r.runs.map(f)) / med(r.runs.map((x) => x.ipvsadm.restoreMs))).toFixed(2)}x`]);
};
ratio('ratio vrrpd / ipvsadm -R', total);
ratio('  without our read-back verify', (x) => x.ours.ours.totalMs - x.ours.ours.readBackMs);
row('vrrpd: second reconcile, no change (s)', (x) => x.ours.noop.totalMs);
row('  the same with a full dump (audit; every sync before)', (x) => x.ours.noopFull.totalMs);
row('vrrpd: one weight changed (s)', (x) => x.ours.oneWeight.totalMs);
row('  dump before planning', (x) => x.ours.oneWeight.dumpBeforeMs);
row('  read that service before planning', (x) => x.ours.oneWeight.preReadMs);
row('  read-back verify (that service)', (x) => x.ours.oneWeight.readBackMs);
row('  the same with a full dump first (every sync before)', (x) => x.ours.oneWeightFull.totalMs);
row('read the table: vrrpd listServices (s)', (x) => x.ours.ourListMs);
row('read the table: ipvsadm -Ln (s)', (x) => x.ours.ipvsadmListMs);
row('vrrpd CPU user during the apply (s)', (x) => x.ours.cpu.userMs);
row('vrrpd CPU sys during the apply (s)', (x) => x.ours.cpu.sysMs);
if (r.flap && r.runs.every((x) => x.ours.afterClear && x.ipvsadm.afterClear)) {
  row('after ipvsadm -C, same namespace: vrrpd (s)', (x) => x.ours.afterClear!.reapply.totalMs);
  row('after ipvsadm -C, same namespace: ipvsadm -R (s)', (x) => x.ipvsadm.afterClear!.restoreMs);
}
const ratioMed = med(r.runs.map(total)) / med(r.runs.map((x) => x.ipvsadm.restoreMs));
const st = r.stats;
process.stdout.write(`
IPVS apply benchmark: ${st.services} virtual services (${st.tcp} TCP addr:port, ${st.fwmark} fwmark, ${st.persistent} persistent; `
  + `${Object.entries(st.byScheduler).map(([k, v]) => `${v} ${k}`).join(', ')}), ${st.dests} real servers `
  + `(${Object.entries(st.byForwarding).map(([k, v]) => `${v} ${k}`).join(', ')}; up to ${st.maxDests} per service) = ${r.rulesLines} ipvsadm -R lines
guest: Linux ${r.kernel} under qemu TCG (~15-20x slower than the host: compare the ratio, not the seconds), node ${r.node}, ${r.ipvsadm}
each apply from empty in a fresh network namespace; both verified equal after every run (our reader, and
ipvsadm -Sn == the rules file on run 1); runs alternate which goes first

${table(rows)}

verdict: vrrpd ${ratioMed <= 1 ? 'is no slower than' : 'is SLOWER than'} ipvsadm -R (median ratio ${ratioMed.toFixed(2)}x; target <= 1.00x)
`);
if (profile.length) process.stdout.write(`\nguest CPU profile (node --cpu-prof, self time):\n${profile.join('\n')}\n`);
process.exit(code === 0 ? 0 : 1);
