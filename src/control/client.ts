// Control-socket client: send one request, wait for its reply line.
import { connect } from 'node:net';
import type { Reply, Request } from './protocol.js';

export class ControlError extends Error {
  constructor(message: string, readonly code: 'unreachable' | 'daemon' | 'timeout') {
    super(message);
  }
}

export function request(path: string, req: Request, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ControlError(`no reply from ${path} within ${timeoutMs} ms`, 'timeout'));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      const reply = JSON.parse(buf.slice(0, nl)) as Reply;
      if (reply.ok) resolve(reply.result);
      else reject(new ControlError(reply.error, 'daemon'));
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ControlError(`cannot reach vrrpd at ${path}: ${e.code ?? e.message} (is it running? try --socket)`, 'unreachable'));
    });
  });
}
