// The usual simulated pair: lvs1 (priority 100) and lvs2 (priority 90), started and settled with lvs1 MASTER.
import { expect } from 'vitest';
import { Segment, cfg } from '../../src/sim/segment.js';
import type { InstanceConfig } from '../../src/engine/types.js';

export const A = '172.16.1.251';
export const B = '172.16.1.252';

export function running(over1: Partial<InstanceConfig> = {}, over2: Partial<InstanceConfig> = {}, seg = new Segment()): Segment {
  seg.add('lvs1', cfg({ primaryAddress: A, priority: 100, ...over1 }));
  seg.add('lvs2', cfg({ primaryAddress: B, priority: 90, ...over2 }));
  seg.startAll();
  seg.runFor(10_000);
  expect(seg.holders()).toEqual(['lvs1']);
  return seg;
}
