// bench/ipvs --profile: summarize a .cpuprofile (node --cpu-prof) by self time per function, top N.
// Native calls (the addon's sendmsg/recvmsg, which include the kernel's work on a netlink request) count as their
// JS caller's self time.
import { readFileSync } from 'node:fs';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: ipvs-profile.js FILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const perNode = new Map<number, number>();
p.samples.forEach((id, i) => perNode.set(id, (perNode.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const self = new Map<string, number>();
let total = 0;
for (const [id, us] of perNode) {
  const cf = byId.get(id)!.callFrame;
  const key = `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + us);
  total += us;
}
console.log(`total ${(total / 1000).toFixed(0)} ms sampled`);
for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 30))) {
  console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
}
