// HTTP_GET / SSL_GET against loopback servers: request shape, status, digest, timeouts, retries, recovery, bounds, TLS.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkPort, HealthChecks, type HealthCheckOptions } from '../../src/checks/index.js';
import { hostHeader, httpRequest } from '../../src/checks/http.js';
import {
  captureLog, closedPort, gaps, httpServer, LOOPBACK, tcpServer, vs, waitFor, type TestServer,
} from './helpers.js';
import { SkipClock } from '../support/skip-clock.js';

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');
const BODY = '<html>lb ok</html>\n';

const open: { stop(): void }[] = [];
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.stop();
  for (const s of servers.splice(0)) await s.close();
});
const track = <T extends { close(): Promise<void> }>(s: T): T => { servers.push(s); return s; };
/** Rounds and retries run on virtual time (no test sleeps for a delay); probes take real time on the loopback. */
let clock: SkipClock;
beforeEach(() => { clock = new SkipClock(); });
const driven = (options?: HealthCheckOptions) => ({ ...options, clock, onDeadlinesChanged: clock.changed });

/** One service (address never contacted) with one loopback real server and its check; started. */
function checks(port: number, check: Record<string, unknown>, svc: Record<string, unknown> = {}, options?: HealthCheckOptions) {
  const { log, lines } = captureLog();
  let changes = 0;
  const table = {
    web: vs({ address: '127.0.0.100', port: 80, delayLoop: '50ms', ...svc, realServers: [{ address: LOOPBACK, port, check }] }),
  };
  const hc = clock.drive(new HealthChecks(table, log, () => changes++, driven(options)));
  open.push(hc);
  hc.start();
  const rs = { address: LOOPBACK, port };
  return {
    hc, lines,
    changes: () => changes,
    healthy: () => hc.healthy('web', rs),
    st: () => hc.status()[0]!,
    transitions: () => lines.filter((l) => l.state === 'up' || l.state === 'down'),
  };
}

const http = (o: Record<string, unknown> = {}) => ({ type: 'http', urls: [{ path: '/lb.php', digest: md5(BODY) }], connectTimeout: '500ms', retries: 0, delayBeforeRetry: '20ms', ...o });

describe('HTTP_GET', () => {
  it('healthy: 200 with the matching digest; keepalived request (GET path HTTP/1.0, Host address:port, Connection: close)', async () => {
    const srv = track(await httpServer((_q, res) => res.end(BODY)));
    const c = checks(srv.port, http());
    await clock.until(() => srv.hits.length >= 3, 2000, '3 rounds');
    expect(c.healthy()).toBe(true);
    expect(c.changes()).toBe(0);
    expect(c.st()).toMatchObject({ service: 'web', address: LOOPBACK, port: srv.port, check: 'http', healthy: true, lastError: null });
    const h = srv.hits[0]!;
    expect([h.method, h.url, h.version]).toEqual(['GET', '/lb.php', '1.0']);
    expect(h.headers).toMatchObject({ host: `${LOOPBACK}:${srv.port}`, connection: 'close', 'user-agent': 'KeepAliveClient' });
    // keepalived logs the first result of a check
    expect(c.lines.some((l) => l.msg.includes('check passed'))).toBe(true);
  });

  it('virtualHost is the Host header: the check\'s, else the service\'s', async () => {
    const srv = track(await httpServer((_q, res) => res.end(BODY)));
    checks(srv.port, http(), { virtualHost: 'www.example.test' });
    await clock.until(() => srv.hits.length >= 1, 2000);
    expect(srv.hits[0]!.headers.host).toBe('www.example.test');
    const srv2 = track(await httpServer((_q, res) => res.end(BODY)));
    checks(srv2.port, http({ virtualHost: 'app.example.test' }), { virtualHost: 'www.example.test' });
    await clock.until(() => srv2.hits.length >= 1, 2000);
    expect(srv2.hits[0]!.headers.host).toBe('app.example.test');
  });

  it('digest mismatch: down after 1 + retries attempts (counted by the server), both digests in the reason', async () => {
    const srv = track(await httpServer((_q, res) => res.end('changed page')));
    const c = checks(srv.port, http({ retries: 2, delayBeforeRetry: '20ms' }), { delayLoop: '10s' });
    await clock.until(() => !c.healthy(), 2000, 'down');
    const downAt = clock.now();
    expect(srv.hits.length).toBe(3);
    await clock.advance(9_900);
    expect(srv.hits.length).toBe(3); // the next round is delayLoop (10 s) away
    await clock.until(() => srv.hits.length === 4, 1000, 'the next round');
    expect(clock.now() - downAt).toBeGreaterThanOrEqual(10_000);
    expect(c.changes()).toBe(1);
    const t = c.transitions();
    expect(t).toHaveLength(1);
    expect(t[0]!.reason).toBe(`GET /lb.php: MD5 digest mismatch: got ${md5('changed page')}, expected ${md5(BODY)} (3 attempts)`);
    expect(t[0]!.level).toBe(30); // info
    expect(c.st().lastError).toContain('MD5 digest mismatch');
  });

  it('status: any 2xx by default (keepalived 200-299); 500 fails; a configured status is the only one accepted', async () => {
    const s204 = track(await httpServer((_q, res) => { res.statusCode = 204; res.end(); }));
    const ok = checks(s204.port, http({ urls: [{ path: '/' }] }));
    const s500 = track(await httpServer((_q, res) => { res.statusCode = 500; res.end(BODY); }));
    const bad = checks(s500.port, http());
    const s200 = track(await httpServer((_q, res) => res.end(BODY)));
    const strict = checks(s200.port, http({ urls: [{ path: '/lb.php', status: 201 }] }));
    await clock.until(() => !bad.healthy() && !strict.healthy() && s204.hits.length >= 2, 2000);
    expect(ok.healthy()).toBe(true);
    expect(bad.transitions()[0]!.reason).toBe('GET /lb.php: HTTP status 500, expected 200-299');
    expect(strict.transitions()[0]!.reason).toBe('GET /lb.php: HTTP status 200, expected 201');
  });

  it('connection refused: down with the reason', async () => {
    const port = await closedPort();
    const c = checks(port, http());
    await clock.until(() => !c.healthy(), 2000);
    expect(c.transitions()[0]!.reason).toBe('GET /lb.php: connection refused (ECONNREFUSED)');
  });

  it('a server that accepts and never answers: the read times out after connectTimeout, the socket is closed', async () => {
    const srv = track(await tcpServer());
    const t0 = performance.now();
    const c = checks(srv.port, http({ connectTimeout: '150ms' }), { delayLoop: '10s' });
    await clock.until(() => !c.healthy(), 3000);
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(1500);
    expect(c.transitions()[0]!.reason).toBe('GET /lb.php: no response within 150 ms');
    await waitFor(() => srv.open() === 0, 1000, 'the check closed its socket');
  });

  it('retries are delayBeforeRetry apart; a down server gets one attempt per max(delayLoop, delayBeforeRetry)', async () => {
    const srv = track(await httpServer((_q, res) => { res.statusCode = 503; res.end(); }, clock.now)); // hits at virtual times
    const c = checks(srv.port, http({ retries: 2, delayBeforeRetry: '100ms' }), { delayLoop: '300ms' });
    await clock.until(() => srv.hits.length >= 5, 4000, '5 attempts');
    const g = gaps(srv.hits);
    // attempts 1-3: one round (retries 100 ms apart), then down; 4 and 5: one attempt per round, 300 ms apart
    expect(g[0]).toBeGreaterThanOrEqual(95);
    expect(g[0]).toBeLessThan(290);
    expect(g[1]).toBeGreaterThanOrEqual(95);
    expect(g[1]).toBeLessThan(290);
    expect(g[2]).toBeGreaterThanOrEqual(295);
    expect(g[2]).toBeLessThan(900);
    expect(g[3]).toBeGreaterThanOrEqual(295);
    expect(g[3]).toBeLessThan(900);
    expect(c.changes()).toBe(1);
    expect(c.transitions()[0]!.reason).toContain('(3 attempts)');
  });

  it('recovery: up again on the first success, logged with the result', async () => {
    let fail = 2;
    const srv = track(await httpServer((_q, res) => {
      if (fail-- > 0) { res.statusCode = 500; res.end(); } else res.end(BODY);
    }));
    const c = checks(srv.port, http());
    await clock.until(() => c.changes() === 2, 3000, 'down then up');
    expect(c.healthy()).toBe(true);
    expect(c.transitions().map((l) => l.state)).toEqual(['down', 'up']);
    expect(c.transitions()[1]!.reason).toBe(`HTTP 200, digest ${md5(BODY)}`);
    expect(srv.hits.length).toBe(3); // down after the 1st and 2nd failures (retries 0), up on the 3rd attempt
    expect(c.st().lastError).toBeNull();
  });

  it('several URLs: every one must pass; a retry resumes at the URL that failed', async () => {
    const srv = track(await httpServer((q, res) => {
      if (q.url === '/b') { res.statusCode = 404; res.end(); } else res.end(BODY);
    }));
    const c = checks(srv.port, http({ urls: [{ path: '/a', digest: md5(BODY) }, { path: '/b' }], retries: 2 }), { delayLoop: '10s' });
    await clock.until(() => !c.healthy(), 2000);
    expect(srv.hits.map((h) => h.url)).toEqual(['/a', '/b', '/b', '/b']);
    expect(c.transitions()[0]!.reason).toBe('GET /b: HTTP status 404, expected 200-299 (3 attempts)');
  });

  it('bounded: a trickling response ends at 4 x connectTimeout; a body over the limit fails a digest check only', async () => {
    const drip = track(await tcpServer((s) => {
      s.write('HTTP/1.0 200 OK\r\n\r\n');
      const t = setInterval(() => s.write('x'), 20);
      s.on('close', () => clearInterval(t));
    }));
    const t0 = performance.now();
    const c = checks(drip.port, http({ connectTimeout: '300ms' }), { delayLoop: '10s' });
    await clock.until(() => !c.healthy(), 4000);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1190);
    expect(c.transitions()[0]!.reason).toBe('GET /lb.php: response not complete after 1200 ms');

    const big = Buffer.alloc(5000, 'a');
    const srv = track(await httpServer((q, res) => {
      if (q.url === '/with-length') res.setHeader('Content-Length', big.length); // node omits it for HTTP/1.0 clients
      res.end(big);
    }));
    const opt = { maxBodyBytes: 1000 };
    const streamed = checks(srv.port, http({ urls: [{ path: '/big', digest: md5(big) }] }), {}, opt);
    const announced = checks(srv.port, http({ urls: [{ path: '/with-length', digest: md5(big) }] }), {}, opt);
    const statusOnly = checks(srv.port, http({ urls: [{ path: '/big' }] }), {}, opt);
    await clock.until(() => !streamed.healthy() && !announced.healthy() && statusOnly.st().lastError === null && srv.hits.length >= 6, 2000);
    expect(streamed.transitions()[0]!.reason).toBe('GET /big: response body larger than 1000 bytes');
    expect(announced.transitions()[0]!.reason).toBe('GET /with-length: Content-Length 5000 larger than 1000 bytes');
    expect(statusOnly.healthy()).toBe(true);
  });

  it('Content-Length ends the response (no wait for the close) and bounds the digest, as keepalived', async () => {
    const srv = track(await tcpServer((s) => s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA'))));
    const c = checks(srv.port, http({ urls: [{ path: '/', digest: md5('hello') }], connectTimeout: '2s' }));
    await clock.until(() => srv.connections >= 3, 2000, '3 rounds'); // 50 ms apart: none waited for the 2 s read timeout
    expect(c.healthy()).toBe(true);
    expect(c.changes()).toBe(0);
  });

  it('no HTTP response, a malformed status line, an unterminated header: failures with their reason', async () => {
    const cases: [(s: Socket) => void, string][] = [
      [(s) => s.end(), 'no data received (connection closed)'],
      [(s) => s.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'), 'malformed HTTP status line "SSH-2.0-OpenSSH_9.6"'],
      [(s) => s.end('HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n'), 'connection closed before the end of the HTTP header'],
    ];
    const runs: ReturnType<typeof checks>[] = [];
    for (const [behave] of cases) runs.push(checks(track(await tcpServer((s) => s.once('data', () => behave(s)))).port, http()));
    await clock.until(() => runs.every((r) => !r.healthy()), 2000);
    expect(runs.map((r) => r.transitions()[0]!.reason)).toEqual(cases.map(([, why]) => `GET /lb.php: ${why}`));
  });

  it('a fwmark service whose real server has port 0 and no check.port: down at once, nothing is contacted', async () => {
    const { log, lines } = captureLog();
    const table = { fw: vs({ fwmark: 7, persistence: 60, delayLoop: '50ms', realServers: [{ address: LOOPBACK, check: http() }] }) };
    const hc = clock.drive(new HealthChecks(table, log, () => {}, driven()));
    open.push(hc);
    expect(hc.healthy('fw', { address: LOOPBACK, port: 0 })).toBe(false); // down even before start()
    hc.start();
    expect(hc.status()[0]!.lastError).toBe('no port to check: the real server has port 0 (a fwmark service); set check.port');
    expect(lines.find((l) => l.level === 40)?.msg).toContain('set check.port');
    // with check.port, the same server is checked on that port
    const srv = track(await httpServer((_q, res) => res.end(BODY)));
    const ok = clock.drive(new HealthChecks({ fw: vs({ fwmark: 7, persistence: 60, delayLoop: '50ms',
      realServers: [{ address: LOOPBACK, check: http({ port: srv.port }) }] }) }, log, () => {}, driven()));
    open.push(ok);
    ok.start();
    await clock.until(() => srv.hits.length >= 1, 2000);
    expect(ok.healthy('fw', { address: LOOPBACK, port: 0 })).toBe(true);
  });
});

describe('request and target (no network)', () => {
  it('keepalived\'s request and Host header; the port a check connects to', () => {
    expect(httpRequest('/lb.php', hostHeader({ address: '127.0.0.1', port: 8080 })))
      .toBe('GET /lb.php HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: 127.0.0.1:8080\r\n\r\n');
    expect(hostHeader({ address: '2001:db8::1', port: 80 })).toBe('[2001:db8::1]:80');
    expect(hostHeader({ address: '2001:db8::1', port: 80, virtualHost: 'www.example.test' })).toBe('www.example.test');
    const svc = vs({ address: '127.0.0.100', port: 443, realServers: [{ address: '127.0.0.1' }, { address: '127.0.0.2', port: 8443, forwarding: 'nat' }] });
    const fw = vs({ fwmark: 1, persistence: 60, realServers: [{ address: '127.0.0.1' }, { address: '127.0.0.2', port: 81 }] });
    expect(checkPort(svc, svc.realServers[0]!)).toBe(443); // port 0: the service's
    expect(checkPort(svc, svc.realServers[1]!)).toBe(8443);
    expect(checkPort(fw, fw.realServers[0]!)).toBeNull();
    expect(checkPort(fw, fw.realServers[1]!)).toBe(81);
    expect(checkPort(fw, { ...fw.realServers[0]!, checks: vs({ fwmark: 1, realServers: [{ address: '127.0.0.1', check: { type: 'tcp', port: 80 } }] }).realServers[0]!.checks })).toBe(80);
  });
});

// --- SSL_GET ------------------------------------------------------------------------------------
const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasOpenssl)('SSL_GET (self-signed certificate made with openssl at test time)', () => {
  it('TLS without certificate verification, SNI = virtualHost, status and digest checked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vrrpd-tls-'));
    try {
      const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { encoding: 'utf8', timeout: 20_000 });
      expect(r.status, r.stderr).toBe(0);
      const snis: (string | false | null)[] = [];
      const hits: string[] = [];
      const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (q, res) => {
        hits.push(q.url ?? '');
        snis.push((q.socket as TLSSocket).servername);
        res.end(q.url === '/lb.php' ? BODY : 'other');
      });
      await new Promise<void>((ok) => server.listen(0, LOOPBACK, () => ok()));
      const srv: TestServer = { port: (server.address() as { port: number }).port, hits: [], close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }) };
      track(srv);
      const good = checks(srv.port, http({ type: 'https', virtualHost: 'www.example.test' }));
      const bad = checks(srv.port, http({ type: 'https', urls: [{ path: '/other', digest: md5(BODY) }] }));
      await clock.until(() => !bad.healthy() && hits.filter((h) => h === '/lb.php').length >= 2, 3000);
      expect(good.healthy()).toBe(true);
      expect(good.st().check).toBe('https');
      expect(snis[hits.indexOf('/lb.php')]).toBe('www.example.test');
      expect(snis[hits.indexOf('/other')]).toBe(false); // no virtualHost: no SNI (never an IP literal)
      expect(bad.transitions()[0]!.reason).toBe(`GET /other: MD5 digest mismatch: got ${md5('other')}, expected ${md5(BODY)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a plain-HTTP server behind an https check fails the handshake', async () => {
    const srv = track(await httpServer((_q, res) => res.end(BODY)));
    const c = checks(srv.port, http({ type: 'https' }));
    await clock.until(() => !c.healthy(), 2000);
    expect(c.transitions()[0]!.reason).toMatch(/^GET \/lb\.php: connect\/TLS: /);
  });
});
