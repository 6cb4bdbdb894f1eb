// The part of the net-snmp package (MIT, no types of its own) the AgentX session uses.
declare module 'net-snmp' {
  import type { Socket } from 'node:net';
  import type { EventEmitter } from 'node:events';

  export interface AgentXVarbind { oid: string; type: number; value: unknown }
  export interface AgentXPduObject {
    pduType: number; sessionID: number; transactionID: number; packetID: number; error?: number; index?: number;
    toBuffer(): Buffer;
  }
  export type Callback = (error: Error | null, pdu: AgentXPduObject) => void;

  export interface Subagent extends EventEmitter {
    socket: Socket;
    open(cb: Callback): void;
    close(cb: Callback): void;
    registerProvider(provider: Record<string, unknown>, cb: Callback): void;
    notify(trapOid: string, varbinds: AgentXVarbind[], cb: Callback): void;
    ping(cb: Callback): void;
    sendPdu(pdu: AgentXPduObject, cb?: Callback): void;
    onMsg(buffer: Buffer): void;
  }

  export interface NetSnmp {
    createSubagent(options: { master?: string; masterPort?: number | string; timeout?: number; description?: string }): Subagent;
    AgentXPdu: {
      createFromVariables(vars: Record<string, unknown>): AgentXPduObject;
      writeOctetString(buffer: { writeUInt32BE(v: number): unknown; writeBuffer(b: Buffer): unknown; writeUInt8(v: number): unknown }, value: unknown): void;
    };
    AgentXPduType: Record<string, number>;
    ObjectType: Record<string, number>;
    MibProviderType: Record<string, number>;
    MaxAccess: Record<string, number>;
    ErrorStatus: Record<string, number>;
  }
  const snmp: NetSnmp;
  export default snmp;
}
