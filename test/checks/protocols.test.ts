// The new checkers against real servers of their protocol: dnsmasq (DNS), OpenSMTPD (SMTP), ICMP echo (loopback and a
// namespace of our own), a UDP echo server, files we write; and HealthChecks: all checkers must pass, alpha, warmup, weights.
// NETWORK SAFETY: every server and probe is on the loopback, or inside a network namespace this test creates and deletes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dnsQuery } from '../../src/checks/dns.js';
import { HealthChecks } from '../../src/checks/index.js';
import { pingOnce } from '../../src/checks/ping.js';
import { smtpConversation } from '../../src/checks/smtp.js';
import { parseHex, udpExchange } from '../../src/checks/udp.js';
import { desiredTable } from '../../src/ipvs/reconcile.js';
import { captureLog, closedPort, httpServer, LOOPBACK, sleep, tcpServer, vs, waitFor } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const signal = new AbortController().signal;
const TMP = mkdtempSync(join(tmpdir(), 'vrrpd-checkers-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** A free UDP port on the loopback (bound, then closed). */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, LOOPBACK, () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const which = (paths: string[]) => paths.find((p) => existsSync(p)) ?? null;
const children: ChildProcess[] = [];
afterAll(() => { for (const c of children) c.kill('SIGKILL'); });

/** Start a server process; resolves once `ready()` holds (bounded), rejects with its stderr otherwise. */
async function startDaemon(cmd: string, args: string[], ready: () => Promise<boolean>, what: string): Promise<ChildProcess> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  child.stdout!.on('data', (d: Buffer) => { err += d.toString(); });
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`${what} exited ${child.exitCode}: ${err}`);
    if (await ready()) return child;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`${what} not ready within 10 s: ${err}`);
}

// --- DNS_CHECK against dnsmasq -----------------------------------------------------------------
const DNSMASQ = which(['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq']);
describe.skipIf(!DNSMASQ)(`DNS_CHECK against dnsmasq${DNSMASQ ? '' : ' (skipped: dnsmasq is not installed; apt-get install dnsmasq-base)'}`, () => {
  let port = 0;
  beforeAll(async () => {
    port = await freeUdpPort();
    await startDaemon(DNSMASQ!, ['--keep-in-foreground', '--conf-file=/dev/null', `--port=${port}`, `--listen-address=${LOOPBACK}`,
      '--bind-interfaces', '--no-resolv', '--no-hosts', '--user=root', '--pid-file=', '--log-facility=-',
      '--address=/www.check.test/127.0.0.42', '--host-record=v6.check.test,fd00::42', '--txt-record=txt.check.test,hello'],
    async () => (await dnsQuery({ address: LOOPBACK, port, queryType: 'A', name: 'www.check.test', timeoutMs: 200 }, signal)).ok, 'dnsmasq');
  });

  const q = (o: Partial<Parameters<typeof dnsQuery>[0]>) => dnsQuery({ address: LOOPBACK, port, queryType: 'A', name: 'www.check.test', timeoutMs: 2000, ...o }, signal);

  it('a NOERROR answer passes; expect checks the addresses in it', async () => {
    expect(await q({})).toEqual({ ok: true, reason: 'DNS A www.check.test: NOERROR' });
    expect(await q({ expect: ['127.0.0.42'] })).toEqual({ ok: true, reason: 'DNS A www.check.test: 127.0.0.42' });
    expect(await q({ queryType: 'AAAA', name: 'v6.check.test', expect: ['fd00:0::42'] })).toMatchObject({ ok: true });
    expect(await q({ queryType: 'TXT', name: 'txt.check.test' })).toMatchObject({ ok: true });
    expect(await q({ expect: ['127.0.0.1'] })).toEqual({ ok: false, reason: 'DNS A www.check.test: answer lacks 127.0.0.1 (got 127.0.0.42)' });
  });

  it('an error RCODE fails (keepalived): dnsmasq without upstream refuses names it does not know, and the root SOA', async () => {
    expect(await q({ name: 'unknown.example' })).toEqual({ ok: false, reason: 'DNS A unknown.example: REFUSED' });
    expect(await q({ queryType: 'SOA', name: '.' })).toEqual({ ok: false, reason: 'DNS SOA .: REFUSED' });
  });

  it('no server: port unreachable fails at once; a silent port fails at the timeout', async () => {
    const closed = await freeUdpPort();
    expect(await q({ port: closed })).toEqual({ ok: false, reason: 'connection refused (ECONNREFUSED)' });
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, LOOPBACK, () => r()));
    const t0 = performance.now();
    expect(await q({ port: silent.address().port, timeoutMs: 300 })).toEqual({ ok: false, reason: 'no DNS reply within 300 ms' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    silent.close();
  });

  it('in HealthChecks: the server goes down when the name stops resolving (a reload asks for another name)', async () => {
    const { log } = captureLog();
    const table = (name: string) => ({ dns: vs({ address: '127.0.0.100', port: 53, protocol: 'udp', delayLoop: '100ms', realServers: [
      { address: LOOPBACK, port, check: { type: 'dns', queryType: 'A', name, retries: 0, connectTimeout: '1s' } }] }) });
    const hc = new HealthChecks(table('www.check.test'), log, () => {});
    try {
      hc.start();
      await sleep(300);
      expect(hc.status()[0]).toMatchObject({ check: 'dns', healthy: true, lastError: null, target: `127.0.0.1:${port}` });
      hc.update(table('nothing.example'));
      await waitFor(() => !hc.healthy('dns', { address: LOOPBACK, port }), 3000, 'down');
      expect(hc.status()[0]!.lastError).toBe('DNS A nothing.example: REFUSED');
    } finally {
      hc.stop();
    }
  });
});

// --- SMTP_CHECK against OpenSMTPD --------------------------------------------------------------
const SMTPD = which(['/usr/sbin/smtpd']);
describe.skipIf(!SMTPD)(`SMTP_CHECK against OpenSMTPD${SMTPD ? '' : ' (skipped: OpenSMTPD is not installed; apt-get install opensmtpd)'}`, () => {
  let port = 0;
  beforeAll(async () => {
    port = await closedPort();
    const conf = join(TMP, 'smtpd.conf');
    writeFileSync(conf, `listen on ${LOOPBACK} port ${port} hostname mx.check.test\naction "local" mbox\nmatch from local for local action "local"\n`);
    chmodSync(conf, 0o600);
    await startDaemon(SMTPD!, ['-d', '-f', conf],
      async () => (await smtpConversation({ address: LOOPBACK, port, heloName: 'x', timeoutMs: 300 }, signal)).ok, 'smtpd');
  });

  it('banner 220, HELO 250, QUIT: passes; the HELO name is what we sent', async () => {
    expect(await smtpConversation({ address: LOOPBACK, port, heloName: 'smtpchecker.keepalived.org', timeoutMs: 2000 }, signal))
      .toEqual({ ok: true, reason: 'SMTP 220, HELO 250' });
  });

  it('no server fails; a TCP server that never greets fails at the read timeout', async () => {
    expect(await smtpConversation({ address: LOOPBACK, port: await closedPort(), heloName: 'x', timeoutMs: 1000 }, signal))
      .toEqual({ ok: false, reason: 'connection refused (ECONNREFUSED)' });
    const mute = await tcpServer();
    try {
      expect(await smtpConversation({ address: LOOPBACK, port: mute.port, heloName: 'x', timeoutMs: 300 }, signal))
        .toEqual({ ok: false, reason: 'no greeting within 300 ms' });
    } finally {
      await mute.close();
    }
  });

  it('an HTTP server on the port is not an SMTP server', async () => {
    const web = await tcpServer((s) => { s.end('HTTP/1.0 400 Bad Request\r\n\r\n'); });
    try {
      expect(await smtpConversation({ address: LOOPBACK, port: web.port, heloName: 'x', timeoutMs: 1000 }, signal))
        .toEqual({ ok: false, reason: 'malformed SMTP reply line "HTTP/1.0 400 Bad Request"' });
    } finally {
      await web.close();
    }
  });
});

// --- UDP_CHECK against a UDP echo server -------------------------------------------------------
describe('UDP_CHECK against a UDP echo server on the loopback', () => {
  let echo: UdpSocket;
  let got: Buffer[] = [];
  beforeAll(async () => {
    echo = createSocket('udp4');
    echo.on('message', (m, r) => { got.push(m); echo.send(m, r.port, r.address); });
    await new Promise<void>((r) => echo.bind(0, LOOPBACK, () => r()));
  });
  afterAll(() => echo.close());
  const t = (o: Partial<Parameters<typeof udpExchange>[0]>) => udpExchange({
    address: LOOPBACK, port: echo.address().port, requireReply: false, minReplyLength: 0, maxReplyLength: 255, timeoutMs: 1000, ...o }, signal);

  it('sends the payload; require_reply judges the echo by length and bytes (x = any nibble)', async () => {
    got = [];
    expect(await t({ payload: parseHex('de ad be ef')!.data, requireReply: true })).toEqual({ ok: true, reason: 'reply of 4 bytes' });
    expect(got).toEqual([Buffer.from('deadbeef', 'hex')]);
    expect((await t({ payload: parseHex('dead beef')!.data, requireReply: true, replyData: parseHex('de xx', true)! })).ok).toBe(true);
    expect(await t({ payload: parseHex('dead beef')!.data, requireReply: true, replyData: parseHex('df', true)! }))
      .toEqual({ ok: false, reason: 'reply byte 0 is 0xde, expected 0xdf' });
    expect(await t({ payload: parseHex('01 02 03')!.data, requireReply: true, minReplyLength: 4 }))
      .toEqual({ ok: false, reason: 'reply of 3 bytes, expected 4-255' });
    got = [];
    expect((await t({})).ok).toBe(true); // keepalived's filler payload: 32 bytes
    expect(got[0]).toHaveLength(32);
  });

  it('port unreachable fails; silence passes without require_reply, fails with it', async () => {
    const closed = await freeUdpPort();
    expect(await t({ port: closed })).toEqual({ ok: false, reason: 'connection refused (ECONNREFUSED)' });
    const silent = createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, LOOPBACK, () => r()));
    try {
      expect(await t({ port: silent.address().port, timeoutMs: 200 })).toEqual({ ok: true, reason: 'sent; no ICMP error within 200 ms' });
      expect(await t({ port: silent.address().port, timeoutMs: 200, requireReply: true })).toEqual({ ok: false, reason: 'no reply within 200 ms' });
    } finally {
      silent.close();
    }
  });
});

// --- PING_CHECK --------------------------------------------------------------------------------
describe('PING_CHECK: ICMP echo', () => {
  it('127.0.0.1 and ::1 answer', async () => {
    expect(await pingOnce({ address: LOOPBACK, timeoutMs: 2000 }, signal)).toEqual({ ok: true, reason: 'echo reply' });
    expect(await pingOnce({ address: '::1', timeoutMs: 2000 }, signal)).toEqual({ ok: true, reason: 'echo reply' });
  });

  const canNetns = process.getuid?.() === 0 && spawnSync('ip', ['-V']).status === 0;
  it.skipIf(!canNetns)('in a namespace of our own: lo answers, an on-link address nobody has times out, an unrouted one fails at once', () => {
    const ns = `vrrpdchk${process.pid}${Math.floor(Math.random() * 1e6)}`;
    const ip = (...a: string[]) => {
      const r = spawnSync('ip', a, { encoding: 'utf8', timeout: 10_000 });
      if (r.status !== 0) throw new Error(`ip ${a.join(' ')}: ${r.stderr}`);
    };
    ip('netns', 'add', ns);
    try {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      // A veth pair with both ends in the namespace: 10.99.0.2 is on-link, and nobody answers for it.
      ip('-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
      ip('-n', ns, 'link', 'set', 'v0', 'up');
      ip('-n', ns, 'link', 'set', 'v1', 'up');
      ip('-n', ns, 'addr', 'add', '10.99.0.1/24', 'dev', 'v0');
      const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', join(here, 'fixtures', 'register-ts.mjs'),
        join(here, 'fixtures', 'ping-child.mjs'), '500', '127.0.0.1', '10.99.0.1', '10.99.0.2', '192.0.2.1'], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, { ok: boolean; reason: string; ms: number }>;
      expect(out['127.0.0.1']).toMatchObject({ ok: true });
      expect(out['10.99.0.1']).toMatchObject({ ok: true }); // our own address on the veth
      expect(out['10.99.0.2']).toMatchObject({ ok: false, reason: 'no echo reply within 500 ms' });
      expect(out['10.99.0.2']!.ms).toBeGreaterThanOrEqual(480);
      expect(out['192.0.2.1']).toMatchObject({ ok: false, reason: 'network unreachable (ENETUNREACH)' });
    } finally {
      spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
    }
  }, 90_000);
});

// --- FILE_CHECK, several checkers, alpha, warmup -----------------------------------------------
describe('HealthChecks with the new checkers', () => {
  it('FILE_CHECK: the value × weight adjusts the IPVS weight (0 and below: weight 0, the server drains); weight 0 fails on non-zero', async () => {
    const file = join(TMP, 'drain-web1');
    const gate = join(TMP, 'gate-web1');
    writeFileSync(file, '0\n');
    const { log } = captureLog();
    let changes = 0;
    const table = { web: vs({ address: '127.0.0.100', port: 80, forwarding: 'nat', realServers: [
      { address: LOOPBACK, port: 8080, weight: 10, checks: [{ type: 'file', file, weight: 5 }] },
      { address: LOOPBACK, port: 8081, weight: 10, checks: [{ type: 'file', file: gate, weight: 0 }] }] }) };
    const hc = new HealthChecks(table, log, () => { changes++; });
    const weights = () => desiredTable(table, undefined, { healthy: (s, rs) => hc.healthy(s, rs), weight: (s, rs) => hc.weight(s, rs) })[0]!
      .dests.map((d) => `${d.port}:${d.weight}`);
    try {
      hc.start();
      // A missing file reads 0 (keepalived): healthy, no change of weight.
      expect(weights()).toEqual(['8080:10', '8081:10']);
      writeFileSync(file, '4\n');
      await waitFor(() => weights()[0] === '8080:30', 3000, 'weight 10 + 4 × 5');
      renameSync(file, `${file}.old`);
      writeFileSync(`${file}.new`, '-7\n');
      renameSync(`${file}.new`, file); // replaced, as an editor or `mv` does
      await waitFor(() => weights()[0] === '8080:0', 3000, 'drained to weight 0');
      expect(hc.healthy('web', { address: LOOPBACK, port: 8080 })).toBe(true); // still in the table: established connections go on
      writeFileSync(gate, '1');
      await waitFor(() => !hc.healthy('web', { address: LOOPBACK, port: 8081 }), 3000, 'gate down');
      expect(weights()).toEqual(['8080:0']);
      expect(hc.status().find((s) => s.port === 8081)).toMatchObject({ check: 'file', healthy: false, lastError: `${gate} reads 1` });
      expect(changes).toBeGreaterThanOrEqual(3);
    } finally {
      hc.stop();
    }
  });

  it('several checkers: the server is healthy only while every one passes (keepalived)', async () => {
    const web = await httpServer((_req, res) => res.end('ready'));
    const refused = await closedPort();
    const { log } = captureLog();
    const table = { web: vs({ address: '127.0.0.100', port: 80, delayLoop: '10s', realServers: [
      // HTTP with a body regex and ICMP echo: both pass
      { address: LOOPBACK, port: web.port, checks: [{ type: 'http', urls: [{ path: '/', regex: 'ready' }], retries: 0 }, { type: 'ping' }] },
      // HTTP passes, TCP to a closed port fails: the server is down
      { address: LOOPBACK, port: 0, checks: [{ type: 'http', port: web.port, urls: [{ path: '/' }], retries: 0 }, { type: 'tcp', port: refused, retries: 0 }] },
    ] }) };
    const hc = new HealthChecks(table, log, () => {});
    try {
      hc.start();
      await waitFor(() => !hc.healthy('web', { address: LOOPBACK, port: 0 }), 3000, 'the server with a failing TCP check down');
      await sleep(200);
      expect(hc.healthy('web', { address: LOOPBACK, port: web.port })).toBe(true);
      const st = hc.status();
      expect(st.map((s) => [s.port, s.check, s.healthy])).toEqual([
        [web.port, 'http', true], [web.port, 'ping', true], [0, 'http', true], [0, 'tcp', false]]);
    } finally {
      hc.stop();
      await web.close();
    }
  });

  it('alpha: servers start failed until the first pass; warmup delays the first attempt', async () => {
    const web = await httpServer((_req, res) => res.end('ok'));
    const { log } = captureLog();
    const table = { web: vs({ address: '127.0.0.100', port: 80, alpha: true, delayLoop: '10s', realServers: [
      { address: LOOPBACK, port: web.port, check: { type: 'tcp', warmup: '400ms' } }] }) };
    const hc = new HealthChecks(table, log, () => {});
    try {
      expect(hc.healthy('web', { address: LOOPBACK, port: web.port })).toBe(false);
      expect(hc.status()[0]!.lastError).toBe('not checked yet (alpha)');
      const t0 = performance.now();
      hc.start();
      await waitFor(() => hc.healthy('web', { address: LOOPBACK, port: web.port }), 3000, 'up after the first pass');
      expect(performance.now() - t0).toBeLessThan(1000);
    } finally {
      hc.stop();
      await web.close();
    }
    // warmup: over several checkers the first attempts spread over [0, warmup].
    const srv = await tcpServer((s) => s.end());
    const hc2 = new HealthChecks({ w: vs({ address: '127.0.0.100', port: 80, delayLoop: '10s', realServers: Array.from({ length: 6 }, (_, i) => (
      { address: `127.0.0.${i + 1}`, port: srv.port, check: { type: 'tcp', warmup: '600ms', address: LOOPBACK } })) }) }, log, () => {});
    try {
      const t0 = performance.now();
      hc2.start();
      await sleep(50);
      const early = srv.connections;
      await waitFor(() => srv.connections === 6, 3000, 'every first attempt');
      expect(early).toBeLessThan(6);
      expect(performance.now() - t0).toBeLessThan(1500);
    } finally {
      hc2.stop();
      await srv.close();
    }
  });
});
