// keepalived SMTP_CHECK: connect, greeting 220, HELO -> 250, QUIT (RFC 5321 §4.1, §4.2 replies), bounded in bytes and time.
import { connect, type Socket } from 'node:net';
import { aborted, describeError, type Probe, type ProbeResult } from './probes.js';

export interface SmtpTarget {
  address: string;
  port: number;
  sourceAddress?: string;
  heloName: string;
  /** keepalived connect_timeout: for the connect, then for each read and write. */
  timeoutMs: number;
}

/** A reply larger than this (all its lines) fails the check. */
export const MAX_REPLY_BYTES = 16 * 1024;
/** A whole attempt ends after this many timeouts, whatever trickles in. */
export const ATTEMPT_CEILING_TIMEOUTS = 4;

/**
 * Complete replies at the start of `buf` (RFC 5321 §4.2.1: "ddd-text" lines continue, "ddd text" or "ddd" ends one).
 * keepalived reads only the first line, so a multi-line 220 greeting fails there; vrrpd reads the whole reply.
 */
export function takeReply(buf: string): { code: number; text: string; rest: string } | { bad: string } | null {
  let off = 0;
  const lines: string[] = [];
  for (;;) {
    const nl = buf.indexOf('\n', off);
    if (nl < 0) return null;
    const line = buf.slice(off, nl).replace(/\r$/, '');
    off = nl + 1;
    const m = /^(\d{3})([ -]|$)/.exec(line);
    if (!m) return { bad: `malformed SMTP reply line "${line.slice(0, 80)}"` };
    lines.push(line);
    if (m[2] !== '-') return { code: Number(m[1]), text: lines.join(' | ').slice(0, 200), rest: buf.slice(off) };
  }
}

/** One conversation on a fresh connection. */
export function smtpConversation(t: SmtpTarget, signal: AbortSignal): Promise<ProbeResult> {
  if (signal.aborted) return Promise.resolve(aborted);
  return new Promise((resolve) => {
    const sock: Socket = connect({ host: t.address, port: t.port, noDelay: true, ...(t.sourceAddress ? { localAddress: t.sourceAddress } : {}) });
    let done = false;
    let connected = false;
    let buf = '';
    let step: 'greeting' | 'helo' | 'quit' = 'greeting';
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(connectTimer);
      clearTimeout(ceiling);
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      resolve(r);
    };
    const onAbort = () => finish(aborted);
    signal.addEventListener('abort', onAbort, { once: true });
    const connectTimer = setTimeout(() => finish({ ok: false, reason: `connect timeout after ${t.timeoutMs} ms` }), t.timeoutMs);
    const ceilingMs = ATTEMPT_CEILING_TIMEOUTS * t.timeoutMs;
    const ceiling = setTimeout(() => finish({ ok: false, reason: `SMTP conversation not complete after ${ceilingMs} ms` }), ceilingMs);
    const send = (line: string) => sock.write(`${line}\r\n`);

    sock.once('connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      sock.setTimeout(t.timeoutMs, () => finish({ ok: false, reason: `no ${step === 'greeting' ? 'greeting' : `reply to ${step.toUpperCase()}`} within ${t.timeoutMs} ms` }));
    });
    sock.on('data', (chunk: Buffer) => {
      if (done) return;
      buf += chunk.toString('latin1');
      for (;;) {
        const r = takeReply(buf);
        if (r === null) {
          if (buf.length > MAX_REPLY_BYTES) finish({ ok: false, reason: `SMTP reply longer than ${MAX_REPLY_BYTES} bytes` });
          return;
        }
        if ('bad' in r) return finish({ ok: false, reason: r.bad });
        buf = r.rest;
        if (step === 'greeting') {
          if (r.code !== 220) return finish({ ok: false, reason: `greeting "${r.text}", expected 220` });
          step = 'helo';
          send(`HELO ${t.heloName}`);
        } else if (step === 'helo') {
          if (r.code !== 250) return finish({ ok: false, reason: `HELO answered "${r.text}", expected 250` });
          step = 'quit';
          send('QUIT');
        } else {
          // keepalived: any line after QUIT ends the check successfully.
          return finish({ ok: true, reason: 'SMTP 220, HELO 250' });
        }
      }
    });
    sock.once('error', (e) => finish({ ok: false, reason: describeError(e) }));
    sock.once('close', () => finish(connected
      ? { ok: false, reason: `connection closed ${step === 'greeting' ? 'before the greeting' : `after ${step.toUpperCase()}`}` }
      : { ok: false, reason: 'connection closed before it was established' }));
  });
}

export const smtpProbe = (t: SmtpTarget): Probe => (signal) => smtpConversation(t, signal);
