// An instance's address family from its settings (kept apart from load.ts so the daemon does not load the parsers).
import type { InstanceSettings } from './schema.js';

export function familyOfText(a: string): 4 | 6 {
  return a.includes(':') ? 6 : 4;
}

/** An instance's address family: its first VIP's, else its source address's, else IPv4. */
export function instanceFamily(inst: InstanceSettings): 4 | 6 {
  if (inst.vips[0]) return inst.vips[0].family;
  if (inst.sourceAddress) return familyOfText(inst.sourceAddress);
  if (inst.unicastPeers[0]) return familyOfText(inst.unicastPeers[0]);
  return 4;
}
