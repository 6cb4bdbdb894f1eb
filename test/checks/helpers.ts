// Helpers for the health-check tests: loopback-only servers (HTTP, TCP, silent), a capturing logger, config builders.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { virtualServerSchema, type VirtualServer } from '../../src/config/schema.js';

/** NETWORK SAFETY: every server and every check in these tests is on the loopback. */
export const LOOPBACK = '127.0.0.1';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const vs = (o: Record<string, unknown>): VirtualServer => virtualServerSchema.parse(o);

/** Poll until cond() holds; throws after ms (bounded). For I/O only: time-driven waits use the SkipClock. */
export async function waitFor(cond: () => boolean, ms: number, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

export interface LogLine { level: number; msg: string; reason?: string; state?: string; [k: string]: unknown }

/** A pino logger whose JSON lines are kept in `lines`. */
export function captureLog(level = 'debug'): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      cb();
    },
  });
  return { log: pino({ level }, stream), lines };
}

export interface Hit { at: number; method: string; url: string; version: string; headers: IncomingMessage['headers'] }

export interface TestServer { port: number; hits: Hit[]; close(): Promise<void> }

function closeAll(server: Server, sockets: Set<Socket>): Promise<void> {
  for (const s of sockets) s.destroy();
  return new Promise((r) => server.close(() => r()));
}

/** An HTTP server on 127.0.0.1 (ephemeral port) that records every request, `at` the time of `now` (a test clock). */
export async function httpServer(handler: (req: IncomingMessage, res: ServerResponse, hit: Hit) => void,
  now: () => number = () => performance.now()): Promise<TestServer> {
  const hits: Hit[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer((req, res) => {
    const hit = { at: now(), method: req.method ?? '', url: req.url ?? '', version: req.httpVersion, headers: req.headers };
    hits.push(hit);
    handler(req, res, hit);
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  return listen(server, hits, sockets);
}

/** A TCP server on 127.0.0.1: `onSocket` gets each connection (default: read and never answer, keep it open). */
export async function tcpServer(onSocket: (s: Socket) => void = (s) => s.resume()): Promise<TestServer & { connections: number; open: () => number }> {
  const hits: Hit[] = [];
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server = createNetServer((s) => {
    state.connections++;
    hits.push({ at: performance.now(), method: '', url: '', version: '', headers: {} });
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onSocket(s);
  });
  const t = await listen(server, hits, sockets);
  return { ...t, get connections() { return state.connections; }, open: () => sockets.size };
}

async function listen(server: Server, hits: Hit[], sockets: Set<Socket>): Promise<TestServer> {
  await new Promise<void>((r) => server.listen(0, LOOPBACK, () => r()));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  return { port: addr.port, hits, close: () => closeAll(server, sockets) };
}

/** A loopback port with nothing listening (bound, then closed): connects are refused. */
export async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, LOOPBACK, () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Gaps between consecutive hits, in ms. */
export const gaps = (hits: Hit[]): number[] => hits.slice(1).map((h, i) => h.at - hits[i]!.at);
