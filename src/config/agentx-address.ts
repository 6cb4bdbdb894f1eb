// The AgentX master's address as global.snmp.agentx spells it (a socket path or tcp:HOST:PORT), parsed without zod.

/** Where the AgentX master listens: a Unix socket (Net-SNMP's default /var/agentx/master) or TCP. */
export type AgentxAddress = { path: string } | { host: string; port: number };

export const DEFAULT_AGENTX = '/var/agentx/master';

/** net-snmp's agentXSocket spellings vrrpd takes: "/path", "unix:/path", "tcp:HOST:PORT" ("tcp:[v6]:PORT"). */
export function parseAgentxAddress(text: string): AgentxAddress | null {
  const unix = /^(?:unix:)?(\/[^\0]*)$/.exec(text);
  if (unix) return { path: unix[1]! };
  const tcp = /^tcp:(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (!tcp) return null;
  const port = Number(tcp[3]);
  return port >= 1 && port <= 65535 ? { host: tcp[1] ?? tcp[2]!, port } : null;
}
