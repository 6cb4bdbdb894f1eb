// IPVS sysctls of active-active (net.ipv4.vs.sloppy_tcp, sloppy_sctp, conn_reuse_mode): set in the daemon's namespace, checked.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ActiveActiveSettings } from '../config/schema.js';

const DIR = '/proc/sys/net/ipv4/vs';

/**
 * Writes each setting (ip_vs must be loaded: the sysctls appear with it); a value that cannot be written and is not
 * already right (a read-only /proc/sys under ProtectKernelTunables, no ip_vs) comes back as a reason the announce
 * groups are unfit: a director without sloppy TCP would reset every flow ECMP moves to it.
 */
export function applyActiveActive(s: ActiveActiveSettings, log: Logger, dir = DIR): string[] {
  const want: [string, number][] = [['sloppy_tcp', s.sloppyTcp ? 1 : 0], ['sloppy_sctp', s.sloppySctp ? 1 : 0], ['conn_reuse_mode', s.connReuseMode]];
  const problems: string[] = [];
  for (const [name, value] of want) {
    const path = `${dir}/${name}`;
    let writeError: string | null = null;
    try {
      writeFileSync(path, `${value}\n`);
    } catch (e) {
      writeError = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    }
    let now: number | null = null;
    try {
      now = Number(readFileSync(path, 'utf8').trim());
    } catch { /* absent: no ip_vs */ }
    if (now === value) {
      log.info({ sysctl: `net.ipv4.vs.${name}`, value }, 'IPVS sysctl for active-active');
      continue;
    }
    const msg = `net.ipv4.vs.${name} is ${now ?? 'absent'}, ${value} wanted${writeError ? ` (cannot set it: ${writeError})` : ''}`;
    log.error({ sysctl: `net.ipv4.vs.${name}`, value, now, err: writeError }, msg);
    problems.push(msg);
  }
  return problems;
}
