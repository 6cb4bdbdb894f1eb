// Fuzz benchmark (not a test): ≥ 10^6 generated inputs through the advert decoder, keepalived.conf, the YAML config and
// the control socket's request line; zero crashes (exceptions escaping) or hangs; the slowest input per target.
// Each target runs in a worker thread the main thread watches: an input that does not finish in --hang-ms is a hang.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { inputSeed, rng, TARGETS, type Target, type TargetName } from './lib/fuzz-targets.js';

interface Job { target: TargetName; seed: number; count: number; progress: SharedArrayBuffer }
interface Crash { index: number; error: string; input: string }
interface Summary { target: string; runs: number; crashes: Crash[]; crashCount: number; slowestMs: number; slowestIndex: number; totalMs: number }


async function work(job: Job): Promise<Summary> {
  const t = TARGETS[job.target] as unknown as Target<unknown>;
  const at = new Int32Array(job.progress);
  const s: Summary = { target: t.name, runs: 0, crashes: [], crashCount: 0, slowestMs: 0, slowestIndex: -1, totalMs: 0 };
  const t0 = performance.now();
  for (let i = 0; i < job.count; i++) {
    Atomics.store(at, 0, i);
    const x = t.gen(rng(inputSeed(job.seed, i)));
    const a = performance.now();
    try {
      await t.run(x);
    } catch (e) {
      s.crashCount++;
      if (s.crashes.length < 5) s.crashes.push({ index: i, error: (e as Error).stack ?? String(e), input: t.show(x).slice(0, 4000) });
    }
    const d = performance.now() - a;
    if (d > s.slowestMs) { s.slowestMs = d; s.slowestIndex = i; }
    s.runs++;
  }
  s.totalMs = performance.now() - t0;
  return s;
}

if (!isMainThread) {
  void work(workerData as Job).then((s) => parentPort!.postMessage(s));
} else {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
      'hang-ms': { type: 'string', default: '5000' },
      only: { type: 'string' },
    },
  });
  const names = (values.only ? values.only.split(',') : Object.keys(TARGETS)) as TargetName[];
  // The total split by cost: a keepalived.conf input (a corpus file mutated, parsed and mapped) costs ~15 ms,
  // an advert or a control line ~0.1 ms. --count is the total over the targets run.
  const SHARE: Record<TargetName, number> = { advert: 0.5, control: 0.3, yaml: 0.15, keepalived: 0.05 };
  const shares = names.reduce((a, n) => a + SHARE[n], 0);
  const countOf = (n: TargetName): number => Math.ceil((Number(values.count) * SHARE[n]) / shares);
  const seed = Number(values.seed);
  const hangMs = Number(values['hang-ms']);
  console.log(`fuzz: ${names.map((n) => `${n} ${countOf(n)}`).join(', ')} inputs, seed ${seed}, hang = one input over ${hangMs} ms; ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(1)}`);
  let failed = false;
  const rows: string[] = [];
  for (const target of names) {
    const progress = new SharedArrayBuffer(4);
    const at = new Int32Array(progress);
    const w = new Worker(fileURLToPath(import.meta.url), { workerData: { target, seed, count: countOf(target), progress } satisfies Job });
    const done = new Promise<Summary | { hang: number }>((resolve, reject) => {
      let last = -1;
      let since = performance.now();
      const watch = setInterval(() => {
        const i = Atomics.load(at, 0);
        if (i !== last) { last = i; since = performance.now(); return; }
        if (performance.now() - since > hangMs) { clearInterval(watch); void w.terminate(); resolve({ hang: i }); }
      }, Math.min(500, hangMs / 4));
      w.on('message', (s: Summary) => { clearInterval(watch); resolve(s); });
      w.on('error', (e) => { clearInterval(watch); reject(e); });
    });
    const r = await done;
    if ('hang' in r) {
      failed = true;
      const t = TARGETS[target] as unknown as Target<unknown>;
      console.log(`HANG ${target}: input ${r.hang} (seed ${seed}) ran over ${hangMs} ms: ${t.show(t.gen(rng(inputSeed(seed, r.hang)))).slice(0, 2000)}`);
      rows.push(`${target.padEnd(11)} HANG at input ${r.hang}`);
      continue;
    }
    await w.terminate();
    if (r.crashCount) failed = true;
    for (const c of r.crashes) console.log(`CRASH ${target} input ${c.index} (seed ${seed}): ${c.error}\n  input: ${c.input}`);
    rows.push(`${target.padEnd(11)} ${String(r.runs).padStart(8)} inputs  ${String(r.crashCount).padStart(3)} crashes  `
      + `${(r.runs / (r.totalMs / 1000)).toFixed(0).padStart(7)} /s  slowest ${r.slowestMs.toFixed(2)} ms (input ${r.slowestIndex})`);
  }
  console.log(['', 'target          inputs  crashes     rate  slowest', ...rows].join('\n'));
  console.log(failed ? 'FAIL: crashes or hangs' : 'OK: zero crashes, zero hangs');
  process.exitCode = failed ? 1 : 0;
}
