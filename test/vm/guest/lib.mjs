// Helpers every guest script shares: CHECK/INFO lines and the failure count, assert, run, waitFor, the control socket,
// and Proc (a process in a namespace with its output lines). One copy; each guest keeps only what is its own.
import { execFile, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';

const T0 = performance.now();
/** Seconds since the guest script started, for INFO lines. */
export const since = () => `${((performance.now() - T0) / 1000).toFixed(1)}s`;

let failed = 0;
/** The names of the checks that passed, in order. */
export const passed = [];
/** How many checks failed so far (the guest exits with it). */
export const failures = () => failed;

/** Count a failure and print "CHECK name FAIL why" (check does it for a check; a guest's outer catch calls it). */
export function fail(name, e) {
  failed += 1;
  console.log(`CHECK ${name} FAIL ${String(e?.stack ?? e).replace(/\n/g, ' | ')}`);
}

/** Run one named check: "CHECK name ok" or "CHECK name FAIL why", then its duration as an INFO line. */
export async function check(name, f) {
  const t = performance.now();
  try {
    await f();
    console.log(`CHECK ${name} ok`);
    passed.push(name);
  } catch (e) {
    fail(name, e);
  }
  console.log(`INFO ${name}: ${((performance.now() - t) / 1000).toFixed(1)} s (at ${since()})`);
}

export function assert(cond, what, detail) {
  if (!cond) throw new Error(`${what}${detail === undefined ? '' : `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Run a command; never rejects: { code, stdout, stderr }. opts: a timeout in ms, or execFile options. */
export function run(cmd, args, opts = 60_000) {
  const o = typeof opts === 'number' ? { timeout: opts } : { timeout: 60_000, ...opts };
  return new Promise((res) => {
    execFile(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20, ...o }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : (err.signal ?? -1)) : 0, stdout, stderr });
    });
  });
}

/** Poll f until it returns something truthy; a throw counts as not yet (the last one is in the timeout's message). */
export async function waitFor(what, f, timeoutMs, everyMs = 200) {
  const end = performance.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await sleep(everyMs);
  }
}

/** One newline-delimited JSON request on a control socket (a unix path: the same from every namespace). */
export function control(sock, req, timeoutMs = 10_000) {
  return new Promise((res, rej) => {
    const c = createConnection(sock);
    let buf = '';
    c.setTimeout(timeoutMs, () => { c.destroy(); rej(new Error(`control ${sock}: no reply in ${timeoutMs} ms`)); });
    c.on('connect', () => c.write(`${JSON.stringify(req)}\n`));
    c.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      c.end();
      const r = JSON.parse(buf.slice(0, nl));
      if (r.ok) res(r.result);
      else rej(new Error(r.error));
    });
    c.on('error', rej);
  });
}

/**
 * A process in a network namespace (`ip netns exec`), its stdout and stderr lines (with arrival times), waitLine,
 * write (stdin: 'pipe'), kill.
 */
export class Proc {
  constructor(n, label, cmd, args, stdin = 'ignore') {
    this.label = label;
    this.lines = [];
    this.times = [];
    this.waiters = [];
    this.child = spawn('ip', ['netns', 'exec', n, cmd, ...args], { stdio: [stdin, 'pipe', 'pipe'] });
    this.exited = new Promise((res) => this.child.on('exit', (code, signal) => { this.code = code; this.signal = signal; res(code ?? signal); }));
    for (const s of [this.child.stdout, this.child.stderr]) {
      createInterface({ input: s, crlfDelay: Infinity }).on('line', (l) => {
        this.lines.push(l);
        this.times.push(performance.now());
        for (const w of [...this.waiters]) if (w.test(l)) { this.waiters.splice(this.waiters.indexOf(w), 1); w.res(l); }
      });
    }
  }
  get running() { return this.code === undefined && this.signal === undefined; }
  waitLine(re, timeoutMs, from = 0) {
    const hit = this.lines.slice(from).find((l) => re.test(l));
    if (hit) return Promise.resolve(hit);
    return new Promise((res, rej) => {
      const w = { test: (l) => re.test(l), res };
      this.waiters.push(w);
      setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) { this.waiters.splice(i, 1); rej(new Error(`${this.label}: no line matching ${re} in ${timeoutMs} ms; last: ${this.lines.slice(-5).join(' | ')}`)); }
      }, timeoutMs);
    });
  }
  write(l) { this.child.stdin.write(`${l}\n`); }
  kill(sig = 'SIGTERM') { if (this.running) this.child.kill(sig); }
}
