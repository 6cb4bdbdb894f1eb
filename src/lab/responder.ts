// Lab UDP responder (run in a director namespace): answers every datagram with {name, seq}; exits when its stdin closes.
import { createSocket } from 'node:dgram';

const [name, portText] = process.argv.slice(2);
const port = Number(portText);
if (!name || !Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write('usage: node dist/lab/responder.js NAME PORT\n');
  process.exit(2);
}

const sock = createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  let seq: unknown = null;
  try {
    seq = (JSON.parse(msg.toString('utf8')) as { seq?: unknown }).seq ?? null;
  } catch {
    /* not ours: answer with seq null */
  }
  // Only ever answers the sender, which can only be inside the lab's namespaces.
  sock.send(JSON.stringify({ name, seq }), rinfo.port, rinfo.address);
});
sock.on('error', (e) => {
  process.stderr.write(`responder ${name}: ${e.message}\n`);
  process.exit(1);
});
sock.bind(port, '0.0.0.0', () => process.stdout.write(`${JSON.stringify({ listening: true, name, port })}\n`));

const quit = () => {
  sock.close();
  process.exit(0);
};
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
// Watchdog: the lab keeps our stdin open; when the lab process dies, so do we.
process.stdin.on('end', quit).on('error', quit).resume();
