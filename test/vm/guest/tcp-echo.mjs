#!/usr/bin/env node
// Guest helper of test/vm/daemon-ipvs.test.ts: a line echo server, and a client that keeps ONE TCP connection open.
//   tcp-echo.mjs server PORT [PORT...]   echoes every line back, prefixed "echo "; prints "LISTENING PORT" for each;
//                                        stdin "close PORT" stops listening there (open connections stay; prints
//                                        "UNLISTENED PORT"), "open PORT" listens again
//   tcp-echo.mjs client HOST PORT        connects once; prints "CONNECTED localaddr:localport"; every stdin line is
//                                        sent on the connection and each reply printed as "GOT <line>"; prints
//                                        "CLOSED <reason>" when the connection ends (never reconnects)
import { createConnection, createServer } from 'node:net';
import { createInterface } from 'node:readline';

const [mode, a, b] = process.argv.slice(2);
const lines = (stream, f) => createInterface({ input: stream, crlfDelay: Infinity }).on('line', f);

if (mode === 'server') {
  const listeners = new Map();
  const open = (port) => {
    const srv = createServer((c) => {
      c.on('error', () => undefined);
      lines(c, (l) => c.write(`echo ${l}\n`));
    }).listen(port, '0.0.0.0', () => console.log(`LISTENING ${port}`));
    listeners.set(port, srv);
  };
  for (const p of process.argv.slice(3)) open(Number(p));
  lines(process.stdin, (l) => {
    const [cmd, p] = l.trim().split(/\s+/);
    const port = Number(p);
    if (cmd === 'close' && listeners.has(port)) {
      listeners.get(port).close();
      listeners.delete(port);
      console.log(`UNLISTENED ${port}`);
    } else if (cmd === 'open' && !listeners.has(port)) open(port);
  });
} else if (mode === 'client') {
  const c = createConnection({ host: a, port: Number(b) });
  c.setNoDelay(true);
  c.on('connect', () => console.log(`CONNECTED ${c.localAddress}:${c.localPort}`));
  c.on('error', (e) => console.log(`CLOSED error ${e.code ?? e.message}`));
  c.on('close', () => { console.log('CLOSED close'); process.exit(0); });
  lines(c, (l) => console.log(`GOT ${l}`));
  lines(process.stdin, (l) => c.write(`${l}\n`));
  process.stdin.on('end', () => c.end());
} else {
  console.error('usage: tcp-echo.mjs server PORT [PORT...] | client HOST PORT');
  process.exit(2);
}
