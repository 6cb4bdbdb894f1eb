// global.snmp: the AgentX master to serve the VRRPv3-MIB through (a socket path or tcp:HOST:PORT), and whether to send notifications.
import { z } from 'zod';

/** Where the AgentX master listens: a Unix socket (Net-SNMP's default /var/agentx/master) or TCP. */
export type AgentxAddress = { path: string } | { host: string; port: number };

/** net-snmp's agentXSocket spellings vrrpd takes: "/path", "unix:/path", "tcp:HOST:PORT" ("tcp:[v6]:PORT"). */
export function parseAgentxAddress(text: string): AgentxAddress | null {
  const unix = /^(?:unix:)?(\/[^\0]*)$/.exec(text);
  if (unix) return { path: unix[1]! };
  const tcp = /^tcp:(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (!tcp) return null;
  const port = Number(tcp[3]);
  return port >= 1 && port <= 65535 ? { host: tcp[1] ?? tcp[2]!, port } : null;
}

export const DEFAULT_AGENTX = '/var/agentx/master';

export const snmpSchema = z.strictObject({
  /** The AgentX master agent (snmpd's agentXSocket). */
  agentx: z.string().default(DEFAULT_AGENTX).refine((s) => parseAgentxAddress(s) !== null,
    'an absolute socket path ("/var/agentx/master", "unix:/path") or "tcp:HOST:PORT" (AgentX over UDP does not exist)'),
  /** vrrpv3NewMaster and vrrpv3ProtoError notifications, which the master agent turns into traps. */
  traps: z.boolean().default(true),
});

export type SnmpSettings = z.output<typeof snmpSchema>;
