// keepalived HTTP_GET / SSL_GET: one GET per URL on a fresh connection (HTTP/1.0), status, body MD5 and regex checked, bounded.
import type { Hash } from 'node:crypto';
import { crypto, tls } from './lazy-builtins.js';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { aborted, describeError, type Probe, type ProbeResult } from './probes.js';

export interface HttpUrl {
  path: string;
  /** MD5 of the body, hex (as genhash prints it). */
  digest?: string;
  /** The one accepted status; keepalived's default is any 2xx (200-299). */
  status?: number;
  /** The body must match (keepalived url regex); regexNoMatch: must not. */
  regex?: string;
  regexNoMatch?: boolean;
  /** keepalived regex_options with a JavaScript flag: caseless, multiline, dotall, utf. */
  regexOptions?: readonly ('caseless' | 'multiline' | 'dotall' | 'utf')[];
  /** The match starts no earlier / no later than this body byte (keepalived regex_min_offset / regex_max_offset). */
  regexMinOffset?: number;
  regexMaxOffset?: number;
}

const FLAGS = { caseless: 'i', multiline: 'm', dotall: 's', utf: 'u' } as const;

/**
 * keepalived's regex check of a body: a match starting within [regexMinOffset, regexMaxOffset] passes (with
 * regexNoMatch it fails). The body is matched as latin1 text (one char per byte, so offsets are bytes), as UTF-8 with `utf`.
 */
export function judgeRegex(url: HttpUrl, body: Buffer): ProbeResult {
  if (url.regex === undefined) return { ok: true, reason: '' };
  const utf = url.regexOptions?.includes('utf') ?? false;
  const re = new RegExp(url.regex, `g${(url.regexOptions ?? []).map((o) => FLAGS[o]).join('')}`);
  const text = body.toString(utf ? 'utf8' : 'latin1');
  re.lastIndex = url.regexMinOffset ?? 0;
  const m = re.exec(text);
  const at = m ? (utf ? Buffer.byteLength(text.slice(0, m.index), 'utf8') : m.index) : -1;
  const matched = m !== null && (url.regexMaxOffset === undefined || at <= url.regexMaxOffset);
  const where = m && !matched ? ` (a match at byte ${at}, beyond regexMaxOffset ${url.regexMaxOffset})` : '';
  if (url.regexNoMatch) {
    return matched ? { ok: false, reason: `body matches /${url.regex}/ at byte ${at} (regexNoMatch)` } : { ok: true, reason: `no match of /${url.regex}/` };
  }
  return matched ? { ok: true, reason: `body matches /${url.regex}/` } : { ok: false, reason: `body does not match /${url.regex}/${where}` };
}

export interface HttpTarget {
  /** SSL_GET: TLS without certificate verification (as keepalived); SNI = virtualHost when it is a name. */
  tls: boolean;
  address: string;
  port: number;
  /** Source address (keepalived bindto). */
  sourceAddress?: string;
  /** Host header (without a port, as keepalived); default "address:port". */
  virtualHost?: string;
  /** keepalived connect_timeout: for the connect (and TLS handshake), then for each read. */
  timeoutMs: number;
  /** Body bytes read at most (default 1 MiB): more fails a digest check, and ends a status-only check. */
  maxBodyBytes?: number;
}

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_HEADER_BYTES = 64 * 1024;
/** A whole attempt (connect, request, response) ends after this many connect timeouts, whatever trickles in. */
export const ATTEMPT_CEILING_TIMEOUTS = 4;

/** keepalived's Host header: the virtual host as given, else the address (IPv6 in brackets) and the port. */
export function hostHeader(t: Pick<HttpTarget, 'address' | 'port' | 'virtualHost'>): string {
  if (t.virtualHost) return t.virtualHost;
  return `${isIP(t.address) === 6 ? `[${t.address}]` : t.address}:${t.port}`;
}

/** keepalived's request (its "http_protocol 1.0C": HTTP/1.0 with Connection: close). */
export function httpRequest(path: string, host: string): string {
  return `GET ${path} HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: ${host}\r\n\r\n`;
}

/** SNI: the virtual host without a port, never an IP literal (RFC 6066). */
function sniOf(virtualHost: string | undefined): string | undefined {
  if (!virtualHost) return undefined;
  const name = virtualHost.replace(/:\d+$/, '');
  return name && isIP(name.replace(/^\[|\]$/g, '')) === 0 ? name : undefined;
}

/** The checks of HTTP_GET/SSL_GET over every URL, one connection each; every URL must pass. */
export function httpProbe(target: HttpTarget, urls: readonly HttpUrl[]): Probe {
  let resumeAt = 0;
  return async (signal, retrying) => {
    // keepalived retries the URL that failed; a new round checks every URL again.
    let i = retrying ? resumeAt : 0;
    let last: ProbeResult = { ok: true, reason: '' };
    for (; i < urls.length; i++) {
      const url = urls[i]!;
      last = await httpGet(target, url, signal);
      if (!last.ok) {
        resumeAt = i;
        return last === aborted ? last : { ok: false, reason: `GET ${url.path}: ${last.reason}` };
      }
    }
    resumeAt = 0;
    return urls.length === 1 ? last : { ok: true, reason: `${urls.length} URLs passed` };
  };
}

/** One GET: connect within timeoutMs, send, read the response (each read within timeoutMs), judge it. */
export function httpGet(target: HttpTarget, url: HttpUrl, signal: AbortSignal): Promise<ProbeResult> {
  if (signal.aborted) return Promise.resolve(aborted);
  const { timeoutMs } = target;
  const maxBody = target.maxBodyBytes ?? MAX_BODY_BYTES;
  const want = url.digest?.toLowerCase();
  const local = target.sourceAddress ? { localAddress: target.sourceAddress } : {};
  return new Promise((resolve) => {
    const sock: Socket = target.tls
      ? tls().connect({ host: target.address, port: target.port, rejectUnauthorized: false, servername: sniOf(target.virtualHost), ...local })
      : netConnect({ host: target.address, port: target.port, noDelay: true, ...local });
    let done = false;
    let connected = false;
    let head: Buffer = Buffer.alloc(0);
    let status: number | null = null;
    let contentLength: number | null = null;
    let bodyBytes = 0;
    const hash: Hash | null = want ? crypto().createHash('md5') : null;
    /** Body kept for the regex (up to maxBody). */
    const kept: Buffer[] | null = url.regex !== undefined ? [] : null;

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
    const connectTimer = setTimeout(() => finish({
      ok: false, reason: `${target.tls ? 'connect/TLS handshake' : 'connect'} timeout after ${timeoutMs} ms`,
    }), timeoutMs);
    const ceilingMs = ATTEMPT_CEILING_TIMEOUTS * timeoutMs;
    const ceiling = setTimeout(() => finish({ ok: false, reason: `response not complete after ${ceilingMs} ms` }), ceilingMs);

    const judge = (): ProbeResult => {
      if (status === null) {
        return { ok: false, reason: head.length === 0 ? 'no data received (connection closed)' : 'connection closed before the end of the HTTP header' };
      }
      const statusOk = url.status !== undefined ? status === url.status : status >= 200 && status <= 299;
      if (!statusOk) return { ok: false, reason: `HTTP status ${status}, expected ${url.status ?? '200-299'}` };
      let note = '';
      if (hash && want) {
        const got = hash.digest('hex');
        if (got !== want) return { ok: false, reason: `MD5 digest mismatch: got ${got}, expected ${want}` };
        note = `, digest ${got}`;
      }
      if (kept) {
        const r = judgeRegex(url, Buffer.concat(kept));
        if (!r.ok) return r;
        note += `, ${r.reason}`;
      }
      return { ok: true, reason: `HTTP ${status}${note}` };
    };

    /** Body bytes: hashed up to Content-Length (keepalived ignores the excess); true when the response is complete. */
    const body = (buf: Buffer): boolean | ProbeResult => {
      const take = contentLength === null ? buf.length : Math.min(buf.length, contentLength - bodyBytes);
      if (take > 0) {
        hash?.update(buf.subarray(0, take));
        if (kept && bodyBytes < maxBody) kept.push(Buffer.from(buf.subarray(0, Math.min(take, maxBody - bodyBytes))));
        bodyBytes += take;
      }
      if (bodyBytes > maxBody) {
        return hash || kept ? { ok: false, reason: `response body larger than ${maxBody} bytes` } : true;
      }
      return contentLength !== null && bodyBytes >= contentLength;
    };

    const onData = (chunk: Buffer) => {
      if (done) return;
      let rest: Buffer = chunk;
      if (status === null) {
        head = head.length ? Buffer.concat([head, chunk]) : chunk;
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > MAX_HEADER_BYTES) finish({ ok: false, reason: `no end of the HTTP header within ${MAX_HEADER_BYTES} bytes` });
          return;
        }
        const text = head.subarray(0, end).toString('latin1');
        const line = text.split('\r\n', 1)[0]!;
        // keepalived: the status code is the token after the first space.
        const m = /^\S+ +(\d{3})(?:\s|$)/.exec(line);
        const code = m ? Number(m[1]) : NaN;
        if (!(code >= 100 && code <= 599)) {
          finish({ ok: false, reason: `malformed HTTP status line "${line.slice(0, 80)}"` });
          return;
        }
        status = code;
        const cl = /^content-length:[ \t]*(\d+)[ \t]*\r?$/im.exec(text);
        contentLength = cl ? Number(cl[1]) : null;
        if ((hash || kept) && contentLength !== null && contentLength > maxBody) {
          finish({ ok: false, reason: `Content-Length ${contentLength} larger than ${maxBody} bytes` });
          return;
        }
        rest = head.subarray(end + 4);
        head = Buffer.alloc(0);
        if (contentLength === 0) {
          finish(judge());
          return;
        }
      }
      const r = body(rest);
      if (r === true) finish(judge());
      else if (r !== false) finish(r);
    };

    sock.once(target.tls ? 'secureConnect' : 'connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      // keepalived: every later read (and the write) must make progress within connect_timeout.
      sock.setTimeout(timeoutMs, () => finish({
        ok: false,
        reason: status === null ? `no response within ${timeoutMs} ms` : `read timeout: no data for ${timeoutMs} ms`,
      }));
      sock.write(httpRequest(url.path, hostHeader(target)));
    });
    sock.on('data', onData);
    sock.once('end', () => { if (!done) finish(judge()); });
    sock.once('error', (e) => finish({ ok: false, reason: `${connected ? '' : target.tls ? 'connect/TLS: ' : ''}${describeError(e)}` }));
    sock.once('close', () => {
      if (!done) finish(connected ? judge() : { ok: false, reason: 'connection closed before it was established' });
    });
  });
}
