#!/usr/bin/env node
// Guest helper of test/vm/announce.test.ts: many long-lived TCP flows to one address, each echoing a line periodically.
//   flows.mjs HOST PORT COUNT INTERVAL_MS
// Opens COUNT connections (one at a time, then keeps them); each sends "<id> <seq>" every INTERVAL_MS and expects the
// echo back. Prints "READY n" once every flow is connected. stdin commands (one per line):
//   mark     starts a measurement window: each flow's longest gap between two replies is counted from now
//   report   prints "REPORT {json}": open/closed flows, and per flow the longest reply gap in the window (including a
//            gap still running), its local port, and why it closed (a reset is "error ECONNRESET")
//   quit     closes every flow and exits
// A flow never reconnects: a reset or a close is a lost flow.
import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';

const [host, portText, countText, intervalText] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const interval = Number(intervalText);
const flows = [];

function open(id) {
  return new Promise((resolve) => {
    const f = { id, port: 0, lastReply: 0, maxGap: 0, closed: null, seq: 0, replies: 0 };
    const c = createConnection({ host, port });
    f.sock = c;
    c.setNoDelay(true);
    c.on('connect', () => {
      f.port = c.localPort;
      f.lastReply = performance.now();
      f.timer = setInterval(() => { if (!f.closed) c.write(`${id} ${f.seq++}\n`); }, interval);
      resolve(f);
    });
    c.on('error', (e) => { f.closed ??= `error ${e.code ?? e.message}`; resolve(f); });
    c.on('close', () => { f.closed ??= 'close'; clearInterval(f.timer); resolve(f); });
    createInterface({ input: c, crlfDelay: Infinity }).on('line', () => {
      const now = performance.now();
      f.maxGap = Math.max(f.maxGap, now - f.lastReply);
      f.lastReply = now;
      f.replies++;
    });
  });
}

for (let i = 0; i < count; i++) flows.push(await open(i));
console.log(`READY ${flows.filter((f) => !f.closed).length}`);

createInterface({ input: process.stdin, crlfDelay: Infinity }).on('line', (l) => {
  const cmd = l.trim();
  const now = performance.now();
  if (cmd === 'mark') {
    for (const f of flows) { f.maxGap = 0; f.markAt = now; }
    console.log('MARKED');
  } else if (cmd === 'report') {
    const out = flows.map((f) => ({
      id: f.id, port: f.port, replies: f.replies, closed: f.closed,
      maxGapMs: Math.round(Math.max(f.maxGap, f.closed ? 0 : now - Math.max(f.lastReply, f.markAt ?? 0))),
    }));
    console.log(`REPORT ${JSON.stringify({ open: out.filter((f) => !f.closed).length, closed: out.filter((f) => f.closed).length, flows: out })}`);
  } else if (cmd === 'quit') {
    for (const f of flows) { clearInterval(f.timer); f.sock.destroy(); }
    process.exit(0);
  }
});
