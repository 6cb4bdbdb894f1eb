// Control-socket server: a Unix stream socket, one JSON request per line, many clients at once.
import { createServer, type Server, type Socket } from 'node:net';
import { chmod, chown, mkdir, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MAX_LINE, decodeRequestLine, type Reply, type Request } from './protocol.js';

export type Handler = (req: Request) => Promise<unknown>;

export class ControlServer {
  private server: Server | null = null;
  private readonly clients = new Set<Socket>();

  constructor(private readonly path: string, private readonly handle: Handler) {}

  /** Listen; mode 0600 (root), or 0660 with the given group. */
  async listen(group?: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o755 });
    await unlink(this.path).catch(() => undefined); // a stale socket from a killed predecessor
    const server = createServer((sock) => this.onClient(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => resolve());
    });
    if (group !== undefined) {
      const gid = await groupId(group);
      await chown(this.path, process.getuid?.() ?? 0, gid);
      await chmod(this.path, 0o660);
    } else {
      await chmod(this.path, 0o600);
    }
    this.server = server;
  }

  private onClient(sock: Socket): void {
    this.clients.add(sock);
    sock.setEncoding('utf8');
    let buf = '';
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE && !buf.includes('\n')) {
        this.reply(sock, { ok: false, error: `request longer than ${MAX_LINE} bytes` });
        sock.end();
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) void this.onLine(sock, line);
      }
    });
    sock.on('error', () => undefined); // a client vanishing must never disturb the daemon
    sock.on('close', () => this.clients.delete(sock));
  }

  private async onLine(sock: Socket, line: string): Promise<void> {
    const d = decodeRequestLine(line);
    if (!d.ok) return this.reply(sock, d.reply);
    const { id } = d;
    try {
      const result = await this.handle(d.request);
      this.reply(sock, { id, ok: true, result });
    } catch (e) {
      this.reply(sock, { id, ok: false, error: (e as Error).message });
    }
  }

  private reply(sock: Socket, r: Reply): void {
    if (!sock.destroyed && sock.writable) sock.write(`${JSON.stringify(r)}\n`);
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await unlink(this.path).catch(() => undefined);
  }
}

/** A group name or number to its gid, from /etc/group. */
async function groupId(group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  const line = (await readFile('/etc/group', 'utf8')).split('\n').find((l) => l.split(':')[0] === group);
  const gid = line ? Number(line.split(':')[2]) : NaN;
  if (!Number.isInteger(gid)) throw new Error(`control socket group "${group}" does not exist`);
  return gid;
}
