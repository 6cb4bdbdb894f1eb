// keepalived virtual_server_group: entries (address [port], address ranges, fwmark N [inet|inet6]) expanded into services.
import { canonicalAddress } from '../protocol/addr.js';
import type { MapContext } from './keepalived-ctx.js';
import type { Statement } from './keepalived-parse.js';

/** One service a group stands for: by address and port, or by firewall mark. */
export type GroupEntry =
  | { kind: 'addr'; address: string; port?: number; stmt: Statement }
  | { kind: 'fwmark'; fwmark: number; family?: 4 | 6; stmt: Statement };

export interface GroupDraft { name: string; stmt: Statement; entries: GroupEntry[] }

/** Most services one group may expand to (a range covers at most 256 addresses; a typo should not make thousands). */
const MAX_ENTRIES = 4096;

/**
 * Parse a virtual_server_group block. Ranges are keepalived 2.2's: the last IPv4 octet (decimal,
 * "192.168.200.3-10") or the last IPv6 group (hex, "2001:db8::10-1f"), both ends included.
 */
export function parseGroup(ctx: MapContext, s: Statement): GroupDraft | undefined {
  const name = ctx.arg(s, 0, 'a name');
  ctx.extra(s, 1);
  const block = ctx.needBlock(s);
  if (name === undefined) return undefined;
  const g: GroupDraft = { name, stmt: s, entries: [] };
  for (const e of block) {
    ctx.noBlock(e);
    const a = [e.keyword, ...e.args.map((t) => t.text)];
    if (a[0] === 'fwmark') {
      const mark = ctx.int(e, 0);
      if (mark === undefined) continue;
      if (mark < 1 || mark > 0xffffffff) {
        ctx.error(e, `fwmark ${mark} is not 1-4294967295`);
        continue;
      }
      const fam = a[2];
      if (fam !== undefined && fam !== 'inet' && fam !== 'inet6') ctx.error(e, `"${fam}" is not inet or inet6`);
      ctx.extra(e, 2);
      g.entries.push({ kind: 'fwmark', fwmark: mark, stmt: e, ...(fam === 'inet6' ? { family: 6 as const } : fam === 'inet' ? { family: 4 as const } : {}) });
      continue;
    }
    const port = a[1] === undefined ? undefined : Number(a[1]);
    if (port !== undefined && !(/^\d+$/.test(a[1]!) && port >= 0 && port <= 65535)) {
      ctx.error(e, `"${a[1]!}" is not a port (0-65535)`);
      continue;
    }
    ctx.extra(e, 1);
    const addrs = expandRange(ctx, e, a[0]!);
    if (!addrs) continue;
    for (const address of addrs) g.entries.push({ kind: 'addr', address, stmt: e, ...(port !== undefined ? { port } : {}) });
  }
  if (g.entries.length > MAX_ENTRIES) {
    ctx.error(s, `virtual_server_group ${name} stands for ${g.entries.length} services; at most ${MAX_ENTRIES}`);
    return undefined;
  }
  if (!g.entries.length) ctx.error(s, `virtual_server_group ${name} has no entries`);
  return g;
}

/** "10.0.0.1" -> [it]; "10.0.0.3-10" -> .3 to .10; "2001:db8::a-c" -> ::a to ::c; errors at the entry. */
function expandRange(ctx: MapContext, e: Statement, text: string): string[] | undefined {
  const dash = text.indexOf('-');
  const base = dash < 0 ? text : text.slice(0, dash);
  if (base.includes('/')) {
    ctx.error(e, `"${text}": a prefix is not a group entry in keepalived 2.2 (write the range as A.B.C.D-E)`);
    return undefined;
  }
  const canon = canonicalAddress(base);
  if (canon === null) {
    ctx.error(e, `"${base}" is not an IPv4 or IPv6 address`);
    return undefined;
  }
  if (dash < 0) return [base];
  const v6 = base.includes(':');
  const endText = text.slice(dash + 1);
  if (!(v6 ? /^[0-9a-f]{1,4}$/i : /^\d{1,3}$/).test(endText)) {
    ctx.error(e, `"${text}": a range ends in the last ${v6 ? 'group, hex (2001:db8::10-1f)' : 'octet (192.168.1.10-20)'}`);
    return undefined;
  }
  const end = Number.parseInt(endText, v6 ? 16 : 10);
  if (!v6) {
    const octets = base.split('.').map(Number);
    const start = octets[3]!;
    if (end > 255 || end < start) {
      ctx.error(e, `"${text}": the range end ${end} is ${end > 255 ? 'above 255' : `below its start ${start}`}`);
      return undefined;
    }
    const out: string[] = [];
    for (let x = start; x <= end; x++) out.push([...octets.slice(0, 3), x].join('.'));
    return out;
  }
  const groups = expandV6(canon);
  const start = groups[7]!;
  if (end < start) {
    ctx.error(e, `"${text}": the range end ${endText} is below its start ${start.toString(16)}`);
    return undefined;
  }
  if (end - start >= 256) {
    ctx.error(e, `"${text}": ${end - start + 1} addresses; a range covers at most 256`);
    return undefined;
  }
  const out: string[] = [];
  for (let x = start; x <= end; x++) out.push(canonicalAddress([...groups.slice(0, 7), x].map((n) => n.toString(16)).join(':'))!);
  return out;
}

/** The eight 16-bit groups of a canonical IPv6 address. */
function expandV6(a: string): number[] {
  const [head, tail] = a.includes('::') ? a.split('::') as [string, string] : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill('0') as string[];
  return [...h, ...fill, ...t].map((x) => Number.parseInt(x, 16));
}

/** The name of one expanded service: GROUP-ADDRESS-PORT or GROUP-fwm-N (characters a name may not hold become "_"). */
export function entryName(group: string, e: GroupEntry): string {
  const part = e.kind === 'fwmark' ? `fwm-${e.fwmark}` : `${e.address}${e.port !== undefined ? `-${e.port}` : ''}`;
  return `${group}-${part}`.replace(/[^A-Za-z0-9_.-]/g, '_');
}
