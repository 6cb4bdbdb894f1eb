// One health-check attempt each (TCP connect, misc script) and the shared result/error vocabulary; never throw.
import { connect } from 'node:net';
import { runScript } from '../os/scripts.js';

/** The outcome of one attempt: ok, or the reason it failed (logged and shown in status). */
export interface ProbeResult {
  ok: boolean;
  /** Failure reason ("connection refused", "HTTP status 500, expected 200-299"), or a short note on success. */
  reason: string;
}

/**
 * One attempt. `signal` aborts it (stop): sockets are destroyed at once and the promise resolves.
 * `retrying` is true for keepalived's retries within a round (HTTP resumes at the URL that failed).
 */
export type Probe = (signal: AbortSignal, retrying: boolean) => Promise<ProbeResult>;

/** A socket error in words, keeping the errno code for grep: "connection refused (ECONNREFUSED)". */
export function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset by peer',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'connection timed out (kernel)',
    EPIPE: 'connection closed while sending (EPIPE)',
    EADDRNOTAVAIL: 'address not available',
  };
  if (err?.code && words[err.code]) return err.code === 'EPIPE' ? words[err.code]! : `${words[err.code]} (${err.code})`;
  if (err?.code) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(e);
}

export const aborted: ProbeResult = { ok: false, reason: 'stopped' };

/** keepalived TCP_CHECK: a TCP connect to address:port within timeoutMs succeeds; the socket is closed at once. */
export function tcpConnect(address: string, port: number, timeoutMs: number, signal: AbortSignal, sourceAddress?: string): Promise<ProbeResult> {
  if (signal.aborted) return Promise.resolve(aborted);
  return new Promise((resolve) => {
    const sock = connect({ host: address, port, noDelay: true, ...(sourceAddress ? { localAddress: sourceAddress } : {}) });
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(r);
    };
    const onAbort = () => finish(aborted);
    const timer = setTimeout(() => finish({ ok: false, reason: `connect timeout after ${timeoutMs} ms` }), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => finish({ ok: true, reason: 'connected' }));
    sock.once('error', (e) => finish({ ok: false, reason: describeError(e) }));
    sock.once('close', () => finish({ ok: false, reason: 'connection closed before it was established' }));
  });
}

/**
 * keepalived MISC_CHECK: the script (no shell) exits 0 = healthy. Killed (SIGKILL) after timeoutMs.
 * runScript has no cancel: a script running at stop() ends by itself or at its timeout; its result is ignored.
 */
export async function miscScript(script: string, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  if (signal.aborted) return aborted;
  const r = await runScript(script, [], timeoutMs);
  if (signal.aborted) return aborted;
  if (r.ok) return { ok: true, reason: 'exit status 0' };
  const err = r.stderr.trim().split('\n').pop()?.slice(0, 200);
  const why = r.timedOut ? `timed out after ${timeoutMs} ms (killed)`
    : r.code !== null ? `exit status ${r.code}`
      : r.signal ? `killed by ${r.signal}` : 'could not be started (missing or not executable?)';
  return { ok: false, reason: `script ${why}${err ? `: ${err}` : ''}` };
}
