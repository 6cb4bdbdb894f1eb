// A busy box for soak tests: CPU hogs (busy loops at nice 0) and a memory hog that keeps faulting pages in; bounded in time.
import { spawn, type ChildProcess } from 'node:child_process';

export interface LoadOptions {
  /** Busy-loop processes (default: one per CPU). */
  busy: number;
  /** Memory the hog churns through (allocates, touches every page, drops, again); 0: none. */
  hogMb: number;
  /** Every process ends by itself after this long, whatever happens to us. */
  maxSeconds: number;
}

export interface Load { stop(): Promise<void>; pids: number[] }

const BUSY = 'const end = Date.now() + Number(process.argv[1]) * 1000; while (Date.now() < end) { for (let i = 0; i < 1e6; i++); }';
const HOG = 'const mb = Number(process.argv[2]); const end = Date.now() + Number(process.argv[1]) * 1000; '
  + 'while (Date.now() < end) { const b = Buffer.allocUnsafe(mb << 20); for (let i = 0; i < b.length; i += 4096) b[i] = i & 255; }';

/** Start the load (in the root namespace: it uses no network). */
export function startLoad(o: LoadOptions): Load {
  const kids: ChildProcess[] = [];
  const secs = String(Math.ceil(o.maxSeconds));
  for (let i = 0; i < o.busy; i++) kids.push(spawn('nice', ['-n', '0', process.execPath, '-e', BUSY, secs], { stdio: 'ignore' }));
  if (o.hogMb > 0) kids.push(spawn('nice', ['-n', '0', process.execPath, `--max-old-space-size=${o.hogMb * 2 + 256}`, '-e', HOG, secs, String(o.hogMb)], { stdio: 'ignore' }));
  return {
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
