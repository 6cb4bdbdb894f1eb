// A client of BIRD's control socket (what birdc speaks): one connection per read, commands in turn, bounded in time.
import { createConnection } from 'node:net';
import { BirdReplyReader, errorOf, isOk, parseProtocols, parseRoutePrefixes, type BirdProtocol, type BirdReply } from './bird-reply.js';

export interface BirdState {
  /** BIRD's greeting ("BIRD 2.0.12 ready."). */
  version: string;
  /** The BGP protocols (all, or the ones asked for) with their state. */
  peers: (BirdProtocol & { up: boolean; exported: string[] })[];
}

/**
 * Connect, read the greeting, run each command, close. Rejects on a refused or missing socket, a greeting that is
 * not BIRD's, or when the whole exchange takes longer than timeoutMs.
 */
export function birdQuery(socket: string, commands: readonly string[], timeoutMs = 3000): Promise<{ greeting: string; replies: BirdReply[] }> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    const reader = new BirdReplyReader();
    const replies: BirdReply[] = [];
    let greeting: string | null = null;
    let done = false;
    const finish = (e: Error | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      c.destroy();
      if (e) reject(e);
      else resolve({ greeting: greeting ?? '', replies });
    };
    const timer = setTimeout(() => finish(new Error(`BIRD at ${socket} did not answer within ${timeoutMs} ms`)), timeoutMs);
    const next = () => {
      const i = replies.length;
      if (i >= commands.length) return finish(null);
      c.write(`${commands[i]}\n`);
    };
    c.setEncoding('utf8');
    c.on('error', (e) => finish(new Error(`BIRD at ${socket}: ${e.message}`)));
    c.on('close', () => finish(new Error(`BIRD at ${socket} closed the connection`)));
    c.on('data', (chunk: string) => {
      for (const r of reader.push(chunk)) {
        if (greeting === null) {
          if (r.code !== 1) return finish(new Error(`BIRD at ${socket}: unexpected greeting ${r.code} ${r.lines[0]?.text ?? ''}`));
          greeting = r.lines[0]?.text ?? '';
        } else {
          replies.push(r);
        }
        next();
      }
    });
  });
}

/**
 * The BGP protocols and what each exports: `show protocols`, then `show route export NAME` for each one that is up
 * (a session that is not up exports nothing; BIRD answers "No valid tables").
 */
export async function readBirdState(socket: string, only: readonly string[] | undefined, timeoutMs = 3000): Promise<BirdState> {
  const first = await birdQuery(socket, ['show protocols'], timeoutMs);
  const reply = first.replies[0]!;
  if (!isOk(reply)) throw new Error(`BIRD: show protocols: ${errorOf(reply) ?? reply.code}`);
  const bgp = parseProtocols(reply).filter((p) => p.proto === 'BGP' && (only === undefined || only.includes(p.name)));
  const up = bgp.filter((p) => p.state === 'up' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(p.name));
  const routes = up.length ? (await birdQuery(socket, up.map((p) => `show route export ${p.name}`), timeoutMs)).replies : [];
  return {
    version: first.greeting.replace(/ ready\.$/, ''),
    peers: bgp.map((p) => {
      const i = up.indexOf(p);
      const r = i >= 0 ? routes[i] : undefined;
      return { ...p, up: p.state === 'up', exported: r && isOk(r) ? parseRoutePrefixes(r) : [] };
    }),
  };
}
