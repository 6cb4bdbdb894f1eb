// ldirectord's shared tables and shapes: forwarding words, default service by port and back, a real server draft.
import type { ConfigInput } from './schema.js';
import type { LdLine } from './ldirectord-parse.js';

type VsIn = NonNullable<ConfigInput['virtualServers']>[string];
export type RsIn = NonNullable<VsIn['realServers']>[number];
export type Forward = 'dr' | 'nat' | 'tun';

/** real=/fallback= forwarding words. */
export const FORWARD: Record<string, Forward> = { gate: 'dr', masq: 'nat', ipip: 'tun' };

/** ldirectord's default service by virtual port (ld_port_to_service). */
export const SERVICE_BY_PORT: Record<number, string> = {
  21: 'ftp', 25: 'smtp', 53: 'dns', 80: 'http', 110: 'pop', 119: 'nntp', 143: 'imap', 389: 'ldap', 443: 'https', 587: 'submission',
  636: 'ldaps', 993: 'imaps', 995: 'pops', 1521: 'oracle', 1812: 'radius', 3128: 'http_proxy', 3306: 'mysql', 5060: 'sip', 5432: 'pgsql',
};

/** ldirectord's port for a service name (ld_service_to_port): the check port of a server given without one. */
export const PORT_BY_SERVICE: Record<string, number> = Object.fromEntries(Object.entries(SERVICE_BY_PORT).map(([p, s]) => [s, Number(p)]));

/** One real server of a real= line (a range gives several), with its per-server request/receive. */
export interface RealDraft { line: LdLine; rs: RsIn; configuredPort: number; request?: string; receive?: string }
