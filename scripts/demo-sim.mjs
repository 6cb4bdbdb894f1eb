#!/usr/bin/env node
// Embedded demo on the simulated segment: lvs1/lvs2 elect, lvs1 is killed, lvs2 takes over, lvs1 returns.
import { Segment, cfg } from '../dist/sim/segment.js';

const seg = new Segment({ latencyMs: [0.05, 0.3], seed: 7 });
seg.add('lvs1', cfg({ primaryAddress: '172.16.1.251', priority: 100 }));
seg.add('lvs2', cfg({ primaryAddress: '172.16.1.252', priority: 90 }));
const fmt = (ms) => `${(ms / 1000).toFixed(6).padStart(10)} s`;
let printed = 0;
const flush = () => {
  for (; printed < seg.log.length; printed++) {
    const { at, router, action: a } = seg.log[printed];
    if (a.type === 'transition') console.log(`${fmt(at)}  ${router}  ${a.from} -> ${a.to}  (${a.reason}: ${a.detail})`);
    if (a.type === 'addVips' || a.type === 'removeVips') console.log(`${fmt(at)}  ${router}  ${a.type === 'addVips' ? 'adds' : 'removes'} VIP 192.168.1.250`);
    if (a.type === 'announce') console.log(`${fmt(at)}  ${router}  gratuitous ARP x${a.count} (${a.cause})`);
  }
};
console.log('vrrpd demo (simulated segment, VRRPv3, 1 s adverts): lvs1 priority 100, lvs2 priority 90\n');
seg.startAll();
seg.runFor(8_000); flush();
console.log(`\n-- ${fmt(seg.now)}: kill -9 lvs1 (no priority-0 advert)`);
const t0 = seg.now;
seg.kill('lvs1');
seg.runFor(6_000); flush();
console.log(`   VIP unowned for ${seg.timeWithHolders(t0, seg.now, (n) => n === 0).toFixed(3)} ms`);
console.log(`\n-- ${fmt(seg.now)}: lvs1 restarts and preempts (higher priority)`);
seg.restart('lvs1');
seg.runFor(8_000); flush();
const t1 = seg.now;
seg.send('lvs1', { type: 'yield', holdMs: null });
console.log(`\n-- ${fmt(t1)}: vrrpd yield on lvs1`);
seg.runFor(3_000); flush();
const out = seg.actions('yieldOutcome', 'lvs1').at(-1);
if (out) console.log(`   yield: ${out.action.outcome === 'taken-over' ? `${out.action.by} took over in ${out.action.afterMs.toFixed(1)} ms` : 'reclaimed'}`);
console.log(`\nholders now: ${seg.holders().join(', ')}`);
