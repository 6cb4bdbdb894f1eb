// Lab client prober (run in the client namespace): one datagram every INTERVAL_MS for DURATION_MS, a JSON line per reply, then a summary.
import { createSocket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { summarize, type ProbeReply } from './prober.js';

const [target, portText, intervalText, durationText] = process.argv.slice(2);
const port = Number(portText);
const intervalMs = Number(intervalText);
const durationMs = Number(durationText);
if (!target || !isIPv4(target) || !Number.isInteger(port) || port < 1 || port > 65535
  || !(intervalMs >= 1 && intervalMs <= 60_000) || !(durationMs > 0 && durationMs <= 3_600_000)) {
  process.stderr.write('usage: node dist/lab/probe.js TARGET PORT INTERVAL_MS DURATION_MS\n');
  process.exit(2);
}

const sock = createSocket('udp4');
const t0 = performance.now();
const since = () => Number((performance.now() - t0).toFixed(3));
const replies: ProbeReply[] = [];
let sent = 0;
let sendErrors = 0;
let finished = false;
let timer: NodeJS.Timeout | undefined;

const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

sock.on('message', (msg) => {
  if (finished) return;
  const t = since();
  try {
    const r = JSON.parse(msg.toString('utf8')) as { name?: unknown; seq?: unknown };
    const reply: ProbeReply = { t, seq: typeof r.seq === 'number' ? r.seq : -1, name: String(r.name ?? '?') };
    replies.push(reply);
    out(reply);
  } catch {
    /* not a responder reply */
  }
});
sock.on('error', (e) => process.stderr.write(`probe: ${e.message}\n`));

function tick(): void {
  if (since() >= durationMs) return finish();
  const seq = sent++;
  sock.send(JSON.stringify({ seq }), port, target, (e) => { if (e) sendErrors++; });
  const next = sent * intervalMs; // on a fixed grid: no drift
  timer = setTimeout(tick, Math.max(0, next - since()));
}

function finish(): void {
  if (finished) return;
  clearTimeout(timer);
  const end = since();
  // Late replies still count, for a short grace.
  setTimeout(() => {
    finished = true;
    out({ ...summarize(replies, sent, intervalMs, 0, Math.min(end, durationMs)), sendErrors, intervalMs, durationMs });
    sock.close();
    process.exit(0);
  }, Math.min(Math.max(2 * intervalMs, 100), 1000));
}

// Hard bounds: whatever happens, stop.
setTimeout(() => process.exit(3), durationMs + 5000).unref();
process.on('SIGTERM', finish);
process.on('SIGINT', finish);
sock.bind(0, () => {
  out({ start: true, target, port, intervalMs, durationMs });
  tick();
});
