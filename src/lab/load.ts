// A busy box for soak tests: CPU hogs (busy loops at nice 0) and a memory hog (held or churned); bounded in time.
import { spawn, type ChildProcess } from 'node:child_process';

export interface LoadOptions {
  /** Busy-loop processes (default: one per CPU). */
  busy: number;
  /** Memory the hog works on; 0: none. */
  hogMb: number;
  /**
   * hold (default): allocated once and touched page by page for the whole run (memory and cache pressure).
   * churn: allocated, touched, dropped, again. On this project's VM machines churning 512 MB stalls the whole
   * guest for up to ~100 ms (measured with a SCHED_RR sleeper: max 98.6 ms churning, 4.9 ms holding, 1.7 ms
   * with busy loops alone): the host populating the guest's memory, which no process inside can avoid.
   */
  hogMode?: 'hold' | 'churn';
  /** Every process ends by itself after this long, whatever happens to us. */
  maxSeconds: number;
}

export interface Load {
  stop(): Promise<void>;
  pids: number[];
  /** Resolves once the memory hog holds all its memory (at once without a hog, or when it churns). */
  ready: Promise<void>;
}

const BUSY = 'const end = Date.now() + Number(process.argv[1]) * 1000; while (Date.now() < end) { for (let i = 0; i < 1e6; i++); }';
const CHURN = 'const mb = Number(process.argv[2]); const end = Date.now() + Number(process.argv[1]) * 1000; '
  + 'while (Date.now() < end) { const b = Buffer.allocUnsafe(mb << 20); for (let i = 0; i < b.length; i += 4096) b[i] = i & 255; }';
const HOLD = 'const mb = Number(process.argv[2]); const end = Date.now() + Number(process.argv[1]) * 1000; '
  + 'const b = Buffer.alloc(mb << 20); process.stdout.write("ready\\n"); while (Date.now() < end) { for (let i = 0; i < b.length; i += 4096) b[i] = (b[i] + 1) & 255; }';

/** Start the load (in the root namespace: it uses no network). */
export function startLoad(o: LoadOptions): Load {
  const kids: ChildProcess[] = [];
  const secs = String(Math.ceil(o.maxSeconds));
  for (let i = 0; i < o.busy; i++) kids.push(spawn('nice', ['-n', '0', process.execPath, '-e', BUSY, secs], { stdio: 'ignore' }));
  let ready = Promise.resolve();
  if (o.hogMb > 0) {
    const hold = o.hogMode !== 'churn';
    const hog = spawn('nice', ['-n', '0', process.execPath, `--max-old-space-size=${o.hogMb * 2 + 256}`, '-e', hold ? HOLD : CHURN, secs, String(o.hogMb)],
      { stdio: ['ignore', hold ? 'pipe' : 'ignore', 'ignore'] });
    kids.push(hog);
    if (hold) {
      ready = new Promise((res) => {
        hog.stdout!.once('data', () => res());
        hog.once('exit', () => res());
      });
    }
  }
  return {
    ready,
    pids: kids.map((k) => k.pid!).filter((p) => p !== undefined),
    async stop() {
      await Promise.all(kids.map((k) => new Promise<void>((res) => {
        if (k.exitCode !== null || k.signalCode !== null) return res();
        k.once('exit', () => res());
        k.kill('SIGKILL');
      })));
    },
  };
}
