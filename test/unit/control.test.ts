// Control socket: NDJSON requests validated, bad input answered with errors, many clients, mode 0600.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlServer } from '../../src/control/server.js';
import { request, ControlError } from '../../src/control/client.js';
import type { Request } from '../../src/control/protocol.js';

const dir = mkdtempSync(join(tmpdir(), 'vrrpd-ctl-'));
const path = join(dir, 'vrrpd.sock');
const seen: Request[] = [];
const server = new ControlServer(path, async (req) => {
  seen.push(req);
  if (req.cmd === 'status') return { instances: [] };
  if (req.cmd === 'yield') {
    if (req.instance === 'nope') throw new Error('no instance named "nope"');
    await new Promise((r) => setTimeout(r, 50));
    return [{ instance: req.instance ?? 'vi_1', outcome: 'taken-over', by: '172.16.1.252', afterMs: 651 }];
  }
  return 'pong';
});

/** Send raw lines on one connection and collect `n` reply lines. */
function raw(lines: string, n: number): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let buf = '';
    const t = setTimeout(() => { s.destroy(); reject(new Error(`timeout, got: ${buf}`)); }, 3000);
    s.setEncoding('utf8');
    s.on('connect', () => s.write(lines));
    s.on('data', (d: string) => {
      buf += d;
      const got = buf.split('\n').filter(Boolean);
      if (got.length >= n) { clearTimeout(t); s.end(); resolve(got.map((l) => JSON.parse(l) as Record<string, unknown>)); }
    });
    s.on('error', reject);
  });
}

beforeAll(() => server.listen());
afterAll(() => server.close());

describe('control socket', () => {
  it('is a Unix socket with mode 0600', () => {
    const st = statSync(path);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });
  it('answers a valid request with ok and the request id', async () => {
    const [r] = await raw('{"id":7,"cmd":"status"}\n', 1);
    expect(r).toEqual({ id: 7, ok: true, result: { instances: [] } });
  });
  it('answers malformed JSON, unknown commands and bad fields with an error reply, and keeps the connection', async () => {
    const replies = await raw([
      '{not json', '{"cmd":"reboot"}', '{"cmd":"yield","holdMs":-5}', '{"cmd":"status","extra":1}', '42', '{"id":"x","cmd":"ping"}',
    ].join('\n') + '\n', 6);
    expect(replies[0]).toEqual({ ok: false, error: 'malformed JSON' });
    expect(replies[1]).toMatchObject({ ok: false, error: expect.stringMatching(/^bad request: cmd/) });
    expect(replies[2]).toMatchObject({ ok: false, error: expect.stringMatching(/holdMs/) });
    expect(replies[3]).toMatchObject({ ok: false, error: expect.stringMatching(/extra|unrecognized/i) });
    expect(replies[4]).toMatchObject({ ok: false });
    expect(replies[5]).toEqual({ id: 'x', ok: true, result: 'pong' }); // still serving on the same connection
  });
  it('turns handler errors into error replies', async () => {
    await expect(request(path, { cmd: 'yield', instance: 'nope' })).rejects.toThrow(/no instance named "nope"/);
  });
  it('refuses an over-long line and closes that connection only', async () => {
    const [r] = await raw('x'.repeat(70 * 1024), 1);
    expect(r).toMatchObject({ ok: false, error: expect.stringMatching(/longer than/) });
    await expect(request(path, { cmd: 'ping' })).resolves.toBe('pong');
  });
  it('serves many clients at once', async () => {
    const before = seen.length;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => request(path, i % 2 ? { cmd: 'ping' } : { cmd: 'yield', instance: `vi_${i}` })));
    expect(results.filter((r) => r === 'pong')).toHaveLength(25);
    expect(seen.length - before).toBe(50);
  });
  it('a client that vanishes mid-request does not disturb the server', async () => {
    await new Promise<void>((resolve) => {
      const s = connect(path);
      s.on('connect', () => { s.write('{"cmd":"yield"}\n'); s.destroy(); resolve(); });
    });
    await new Promise((r) => setTimeout(r, 100));
    await expect(request(path, { cmd: 'status' })).resolves.toEqual({ instances: [] });
  });
  it('the client says clearly when no daemon listens', async () => {
    const e = await request(join(dir, 'absent.sock'), { cmd: 'status' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ControlError);
    expect((e as ControlError).code).toBe('unreachable');
    expect((e as Error).message).toMatch(/cannot reach vrrpd at .*absent\.sock: ENOENT/);
  });
});

describe('pretty logs', () => {
  it('turns a pino JSON line into a compact human line', async () => {
    const { prettyLine } = await import('../../src/daemon/logger.js');
    const line = prettyLine('{"level":30,"time":"2026-11-21T21:22:56.132Z","pid":1,"instance":"vi_100","from":"BACKUP","to":"MASTER","msg":"vi_100: BACKUP -> MASTER (no-master)"}');
    expect(line).toBe('21:22:56.132 INFO  vi_100: BACKUP -> MASTER (no-master)  instance=vi_100 from=BACKUP to=MASTER');
    expect(prettyLine('not json')).toBe('not json');
  });
});

describe('decodeRequestLine: every request shape, nothing else', async () => {
  const { decodeRequestLine } = await import('../../src/control/protocol.js');
  const ok = (line: string) => decodeRequestLine(line);
  it.each([
    ['{"cmd":"status"}', { cmd: 'status' }],
    ['{"cmd":"ping","id":7}', { cmd: 'ping', id: 7 }],
    ['{"cmd":"reload","id":"a"}', { cmd: 'reload', id: 'a' }],
    ['{"cmd":"resume","instance":"vi_1"}', { cmd: 'resume', instance: 'vi_1' }],
    ['{"cmd":"yield"}', { cmd: 'yield' }],
    ['{"cmd":"yield","instance":"vi_1","holdMs":null,"timeoutMs":600000}', { cmd: 'yield', instance: 'vi_1', holdMs: null, timeoutMs: 600000 }],
    ['{"cmd":"yield","holdMs":0,"timeoutMs":0.5}', { cmd: 'yield', holdMs: 0, timeoutMs: 0.5 }],
  ])('takes %s', (line, want) => {
    const r = ok(line);
    expect(r.ok && r.request).toEqual(want);
  });
  it.each([
    ['[]', /^bad request: request: expected an object/],
    ['"status"', /^bad request: request: expected an object/],
    ['{}', /^bad request: cmd: expected one of/],
    ['{"cmd":"toString"}', /^bad request: cmd: expected one of/],
    ['{"cmd":"status","extra":1}', /unrecognized key\(s\) "extra"/],
    ['{"cmd":"status","instance":"vi_1"}', /unrecognized key\(s\) "instance"/],
    ['{"cmd":"yield","holdMs":-1}', /^bad request: holdMs: expected a number >= 0/],
    ['{"cmd":"yield","holdMs":"5"}', /^bad request: holdMs: expected a number/],
    ['{"cmd":"yield","timeoutMs":0}', /^bad request: timeoutMs: expected a number > 0/],
    ['{"cmd":"yield","timeoutMs":600001}', /^bad request: timeoutMs: expected a number <= 600000/],
    ['{"cmd":"resume","instance":3}', /^bad request: instance: expected a string/],
    ['{"cmd":"ping","id":{}}', /^bad request: id: expected a string or a number/],
    ['{"cmd":"ping","id":null}', /^bad request: id: expected a string or a number/],
  ])('refuses %s', (line, msg) => {
    const r = ok(line);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reply).toMatchObject({ ok: false, error: expect.stringMatching(msg) });
  });
  it('keeps the id of a refused request for the reply', () => {
    const r = ok('{"cmd":"nope","id":"x1"}');
    expect(!r.ok && r.reply.id).toBe('x1');
  });
});
