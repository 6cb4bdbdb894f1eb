// Field types the config schemas share (zod): durations, interface names, addresses, VIPs.
import { z } from 'zod';
import { canonicalAddress, familyOf } from '../protocol/addr.js';

import { DURATION_RE, UNIT_MS } from './duration.js';

/** A duration: a number of seconds, or a string like "1s", "100ms", "2.5s", "1m". Result in ms. */
export const duration = z
  .union([z.number().nonnegative(), z.string().regex(DURATION_RE, 'a duration like "1s", "100ms" or a number of seconds')])
  .transform((v) => {
    if (typeof v === 'number') return v * 1000;
    const m = DURATION_RE.exec(v)!;
    return Number(m[1]) * UNIT_MS[m[2] ?? 's']!;
  });

export const ifname = z.string().min(1).max(15).regex(/^[^\s/:]+$/, 'an interface name (no spaces, "/" or ":")');

export const ipAddress = z.string().refine((s) => canonicalAddress(s) !== null, 'an IPv4 or IPv6 address');

/** "192.168.1.250", "192.168.1.250/32", optionally followed by "dev eth0" and "label eth0:vip". */
const VIP_RE = /^(\S+?)(?:\/(\d{1,3}))?(?:\s+dev\s+(\S+))?(?:\s+label\s+(\S+))?$/;

const vipObject = z.strictObject({
  address: z.string(),
  dev: ifname.optional(),
  label: z.string().min(1).max(15).optional(),
});

export interface Vip {
  address: string;
  family: 4 | 6;
  prefixLen: number;
  dev?: string;
  label?: string;
}

export const vip = z.union([z.string(), vipObject]).transform((v, ctx): Vip => {
  const o = typeof v === 'string' ? (() => {
    const m = VIP_RE.exec(v.trim());
    return m ? { address: m[2] ? `${m[1]}/${m[2]}` : m[1]!, dev: m[3], label: m[4] } : null;
  })() : v;
  if (!o) {
    ctx.addIssue({ code: 'custom', message: 'a VIP like "192.168.1.250/32 dev eth0 label eth0:vip"' });
    return z.NEVER;
  }
  const [addr, plen] = o.address.split('/');
  const family = familyOf(addr ?? '');
  if (!family) {
    ctx.addIssue({ code: 'custom', message: `"${addr}" is not an IPv4 or IPv6 address` });
    return z.NEVER;
  }
  const max = family === 4 ? 32 : 128;
  const prefixLen = plen === undefined ? max : Number(plen);
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > max) {
    ctx.addIssue({ code: 'custom', message: `prefix length must be 0-${max}` });
    return z.NEVER;
  }
  const out: Vip = { address: canonicalAddress(addr!)!, family, prefixLen };
  if (o.dev) out.dev = o.dev;
  if (o.label) out.label = o.label;
  return out;
});
