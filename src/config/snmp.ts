// global.snmp: the AgentX master to serve the VRRPv3-MIB through (a socket path or tcp:HOST:PORT), and whether to send notifications.
import { z } from 'zod';
import { DEFAULT_AGENTX, parseAgentxAddress } from './agentx-address.js';

export const snmpSchema = z.strictObject({
  /** The AgentX master agent (snmpd's agentXSocket). */
  agentx: z.string().default(DEFAULT_AGENTX).refine((s) => parseAgentxAddress(s) !== null,
    'an absolute socket path ("/var/agentx/master", "unix:/path") or "tcp:HOST:PORT" (AgentX over UDP does not exist)'),
  /** vrrpv3NewMaster and vrrpv3ProtoError notifications, which the master agent turns into traps. */
  traps: z.boolean().default(true),
});

export type SnmpSettings = z.output<typeof snmpSchema>;
