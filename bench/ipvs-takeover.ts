// Takeover benchmark (not a test): with the big IPVS table on the instance, the time from the MASTER's death to the
// VIP and the first GARP at the new MASTER, ipvs.onBackup remove vs keep, in the test VM. See bench/ipvs.md.
// The guest side is bench/ipvs-takeover-guest.ts; one VM boot per measured takeover.
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { summary, table } from './lib/stats.js';
import { optionChecks, runGuest, vmRepoRoot } from './lib/vm-bench.js';
import { DEFAULT_DESTS, DEFAULT_SERVICES } from './ipvs-table.js';

const USAGE = `Usage: npm run bench:takeover -- [options]

Two vrrpd directors in network namespaces of the test VM, the generated table (bench/ipvs-table.ts) on their
instance; lvs1 MASTER, lvs2 BACKUP. lvs1 is killed (SIGKILL, its LAN link down) and lvs2's takeover timed: fault -> VIP on
its interface, fault -> first GARP on the LAN. Once with ipvs.onBackup: remove, once with keep, per run. Root only.

Options:
  --runs N          takeovers of each mode (median reported; default 1)
  --services N      virtual services (default ${DEFAULT_SERVICES})
  --dests N         real servers in all (default ${DEFAULT_DESTS})
  --seed N          table generator seed (default 1)
  --advert-ms N     VRRP advert interval (default 1000; Master_Down is about 3.6 of them)
  --audit-ms N      ipvs.auditInterval of both directors (default 2000, the config's default; 0 = off)
  --only MODE       remove or keep alone
  --json FILE       write the raw results as JSON
  -h, --help        this help
`;

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    services: { type: 'string', default: String(DEFAULT_SERVICES) },
    dests: { type: 'string', default: String(DEFAULT_DESTS) },
    seed: { type: 'string', default: '1' },
    'advert-ms': { type: 'string', default: '1000' },
    'audit-ms': { type: 'string', default: '2000' },
    only: { type: 'string' },
    json: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
const { usage, int } = optionChecks('bench:takeover', USAGE);
if (opt.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const RUNS = int('runs', opt.runs, 1, 20);
const SERVICES = int('services', opt.services, 1, 100_000);
const DESTS = int('dests', opt.dests, SERVICES, 1_000_000);
const SEED = int('seed', opt.seed, 0, 2 ** 31);
const ADVERT_MS = int('advert-ms', opt['advert-ms'], 100, 10_000);
const AUDIT_MS = int('audit-ms', opt['audit-ms'], 0, 3_600_000);
if (opt.only !== undefined && opt.only !== 'remove' && opt.only !== 'keep') usage('--only takes remove or keep');
const MODES: ('remove' | 'keep')[] = opt.only ? [opt.only as 'remove' | 'keep'] : ['remove', 'keep'];
const TIMEOUT_S = Math.ceil(240 + 1200 * Math.max(0.05, DESTS / DEFAULT_DESTS));

const REPO = vmRepoRoot();
const GUEST = join(dirname(fileURLToPath(import.meta.url)), 'ipvs-takeover-guest.js');
if (process.getuid?.() !== 0) usage('needs root (the test VM)');
if (!existsSync(GUEST) || !existsSync(join(REPO, 'dist/cli.js'))) usage('not built: npm run bench:takeover builds dist/ and build/bench');

const log = (m: string): void => { process.stderr.write(`${m}\n`); };

export interface TakeoverRun {
  onBackup: 'remove' | 'keep';
  faultToMasterMs: number | null;
  faultToVipMs: number;
  faultToGarpMs: number;
  masterToVipMs: number;
  takeoverOps: number;
  faultToTableLogMs: number | null;
  syncDaemonMs: number;
  faultToSyncDaemonMs: number | null;
}

async function takeover(onBackup: 'remove' | 'keep'): Promise<TakeoverRun> {
  const env = { BENCH_SERVICES: SERVICES, BENCH_DESTS: DESTS, BENCH_SEED: SEED, BENCH_ON_BACKUP: onBackup, BENCH_ADVERT_MS: ADVERT_MS, BENCH_AUDIT_MS: AUDIT_MS };
  const { result, code } = await runGuest<TakeoverRun>(`exec node ${GUEST}`, env, TIMEOUT_S);
  if (!result) throw new Error(`the guest gave no result (exit ${code})`);
  return result;
}

log(`bench:takeover: ${RUNS} run(s) of remove and keep, ${SERVICES} services / ${DESTS} real servers, one VM boot each (bound ${TIMEOUT_S} s)`);
const runs: Partial<Record<'remove' | 'keep', TakeoverRun>>[] = [];
for (let i = 0; i < RUNS; i++) {
  // Alternate which goes first (nothing is shared between VM boots, but the host's load may drift).
  const order = i % 2 === 0 ? MODES : [...MODES].reverse();
  const got: Partial<Record<'remove' | 'keep', TakeoverRun>> = {};
  for (const m of order) got[m] = await takeover(m);
  runs.push(got);
}
if (opt.json) writeFileSync(opt.json, `${JSON.stringify({ services: SERVICES, dests: DESTS, advertMs: ADVERT_MS, auditMs: AUDIT_MS, runs }, null, 2)}\n`);

const s = (ms: number | null): string => (ms === null ? '-' : (ms / 1000).toFixed(2));
const med = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? summary(v)!.median : null;
};
const rows: string[][] = [['guest seconds (median)', ...MODES.map((m) => `onBackup: ${m}`)]];
const of = (m: 'remove' | 'keep'): TakeoverRun[] => runs.map((r) => r[m]!);
const row = (label: string, f: (r: TakeoverRun) => number | null): void => {
  rows.push([label, ...MODES.map((m) => s(med(of(m).map(f))))]);
};
row('fault -> MASTER (Master_Down, from the log)', (r) => r.faultToMasterMs);
row('fault -> VIP on lvs2 eth0', (r) => r.faultToVipMs);
row('fault -> first GARP on the LAN', (r) => r.faultToGarpMs);
row('MASTER -> VIP (the table gate)', (r) => r.masterToVipMs);
rows.push(['table operations at the takeover', ...MODES.map((m) => String(med(of(m).map((r) => r.takeoverOps))))]);
row('backup -> master sync daemon switch', (r) => r.syncDaemonMs);
row('fault -> sync daemon switched', (r) => r.faultToSyncDaemonMs);
process.stdout.write(`
IPVS takeover benchmark: ${SERVICES} virtual services / ${DESTS} real servers on the instance; adverts every ${ADVERT_MS} ms;
ipvs.auditInterval ${AUDIT_MS} ms;
test VM (qemu TCG, ~15-20x slower than the host); ${RUNS} run(s) each; the VIP is added once the table is settled,
before the sync daemon switches (it is not waited for)

${table(rows)}
`);
