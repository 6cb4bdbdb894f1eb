// Where a mapped file (keepalived.conf, ldirectord.cf, ipvsadm rules) set a config path: its errors point at the source line.
import type { Pos } from './keepalived-parse.js';

/** Where the source file sets a config path (or the nearest enclosing path it knows). */
export function positionOf(positions: Map<string, Pos>, path: string): Pos | undefined {
  const parts = path.split('.');
  for (let n = parts.length; n > 0; n--) {
    const p = positions.get(parts.slice(0, n).join('.'));
    if (p) return p;
  }
  return undefined;
}
