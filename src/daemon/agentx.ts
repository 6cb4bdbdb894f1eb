// One AgentX session (RFC 2741) over net-snmp: connect, open, register a subtree, answer GET/GETNEXT from a view, notify, ping.
import snmp from 'net-snmp';
import type { Subagent } from 'net-snmp';
import type { AgentxAddress } from '../config/agentx-address.js';
import { getVar, nextVar, type MibVar, type SnmpType } from './snmp-mib.js';

/*
 * net-snmp speaks AgentX; we use its session (the socket, Open/Register/Notify/Ping/Close, Response encoding and
 * the matching of responses to callbacks). Three things around it are ours, each because of what its subagent does:
 * - framing: it decodes each socket 'data' chunk as one PDU, so two PDUs in one chunk (or one split in two) would
 *   be lost or misread, and a malformed PDU throws out of the socket handler; we cut the stream into whole PDUs;
 * - requests: its GETNEXT ignores the search range's end and `include` flag and answers noSuchObject where
 *   endOfMibView is due; we answer GET/GETNEXT/GETBULK from our sorted view (snmp-mib.ts) and refuse SETs;
 * - octet strings: its encoder writes them as UTF-8 text (a byte ≥ 0x80 becomes two, the length counts one) and
 *   throws on a Buffer; an address like 192.168.1.250 needs raw bytes, so Uint8Array values are written as such.
 */
const PDU = snmp.AgentXPduType;
const T = snmp.ObjectType;
const HEADER = 20;
const MAX_PAYLOAD = 1 << 20;
const FLAG_NON_DEFAULT_CONTEXT = 0x08;
const FLAG_NETWORK_BYTE_ORDER = 0x10;
const NOT_WRITABLE = 17;

/** The master agent did not answer in time: the session is taken as dead. */
class NoAnswer extends Error {}

let patched = false;
function patchOctetStrings(): void {
  if (patched) return;
  patched = true;
  const original = snmp.AgentXPdu.writeOctetString.bind(snmp.AgentXPdu);
  snmp.AgentXPdu.writeOctetString = (buffer, value) => {
    if (!(value instanceof Uint8Array)) return original(buffer, value);
    buffer.writeUInt32BE(value.length);
    buffer.writeBuffer(Buffer.from(value));
    for (let i = value.length % 4 ? 4 - (value.length % 4) : 0; i > 0; i--) buffer.writeUInt8(0);
  };
}

/** Bytes of the first whole PDU at the start of `buf` (header + payload), 0 while incomplete, -1 when it cannot be one. */
export function frameLength(buf: Buffer): number {
  if (buf.length < HEADER) return 0;
  if (buf[0] !== 1) return -1;
  const len = buf[2]! & FLAG_NETWORK_BYTE_ORDER ? buf.readUInt32BE(16) : buf.readUInt32LE(16);
  if (len > MAX_PAYLOAD || len % 4) return -1;
  return buf.length >= HEADER + len ? HEADER + len : 0;
}

export interface SearchRange { start: number[]; include: boolean; end: number[] }
export interface AgentxRequest {
  type: number; sessionID: number; transactionID: number; packetID: number;
  ranges: SearchRange[]; nonRepeaters: number; maxRepetitions: number;
}

/** Header and search ranges of a Get, GetNext or GetBulk PDU (the whole frame, as frameLength cut it). */
export function parseRequest(frame: Buffer): AgentxRequest {
  const be = (frame[2]! & FLAG_NETWORK_BYTE_ORDER) !== 0;
  const u32 = (o: number): number => (be ? frame.readUInt32BE(o) : frame.readUInt32LE(o));
  const u16 = (o: number): number => (be ? frame.readUInt16BE(o) : frame.readUInt16LE(o));
  const req: AgentxRequest = { type: frame[1]!, sessionID: u32(4), transactionID: u32(8), packetID: u32(12), ranges: [], nonRepeaters: 0, maxRepetitions: 0 };
  let off = HEADER;
  if (frame[2]! & FLAG_NON_DEFAULT_CONTEXT) off += 4 + Math.ceil(u32(off) / 4) * 4;
  if (req.type === PDU.GetBulk) {
    req.nonRepeaters = u16(off);
    req.maxRepetitions = u16(off + 2);
    off += 4;
  }
  const oid = (): { oid: number[]; include: boolean } => {
    if (off + 4 > frame.length) throw new RangeError('truncated OID');
    const n = frame[off]!, prefix = frame[off + 1]!, include = frame[off + 2] !== 0;
    off += 4;
    if (off + 4 * n > frame.length) throw new RangeError('truncated OID');
    const out = prefix ? [1, 3, 6, 1, prefix] : [];
    for (let i = 0; i < n; i++, off += 4) out.push(u32(off));
    return { oid: out, include };
  };
  if (req.type === PDU.Get || req.type === PDU.GetNext || req.type === PDU.GetBulk) {
    while (off < frame.length) {
      const start = oid();
      req.ranges.push({ start: start.oid, include: start.include, end: oid().oid });
    }
  }
  return req;
}

const TYPE: Record<SnmpType, number> = {
  Integer: T.Integer!, Gauge: T.Gauge!, Counter: T.Counter!, Counter64: T.Counter64!, TimeTicks: T.TimeTicks!, OctetString: T.OctetString!,
};
type Varbind = { oid: string; type: number; value: unknown };
const varbind = (v: MibVar): Varbind => ({ oid: v.oid.join('.'), type: TYPE[v.type], value: v.value });

/** The response varbinds for a Get, GetNext or GetBulk over `view` (RFC 2741 §7.2.3). */
export function answer(req: AgentxRequest, view: readonly MibVar[]): Varbind[] {
  const next = (r: SearchRange, start = r.start, include = r.include): Varbind => {
    const v = nextVar(view, start, include, r.end);
    return v ? varbind(v) : { oid: start.join('.'), type: T.EndOfMibView!, value: null };
  };
  if (req.type === PDU.Get) {
    return req.ranges.map((r) => {
      const v = getVar(view, r.start);
      return typeof v === 'string' ? { oid: r.start.join('.'), type: v === 'noSuchObject' ? T.NoSuchObject! : T.NoSuchInstance!, value: null } : varbind(v);
    });
  }
  if (req.type === PDU.GetNext) return req.ranges.map((r) => next(r));
  // GetBulk: the non-repeaters once, then up to maxRepetitions rounds over the others.
  const out = req.ranges.slice(0, req.nonRepeaters).map((r) => next(r));
  const rep = req.ranges.slice(req.nonRepeaters);
  let cursor = rep.map((r) => ({ oid: r.start, include: r.include }));
  for (let round = 0; round < Math.max(1, req.maxRepetitions) && rep.length; round++) {
    const vbs = rep.map((r, i) => next(r, cursor[i]!.oid, cursor[i]!.include));
    out.push(...vbs);
    if (vbs.every((v) => v.type === T.EndOfMibView)) break;
    cursor = vbs.map((v) => ({ oid: v.oid.split('.').map(Number), include: false }));
  }
  return out;
}

export interface SessionOptions {
  description: string;
  /** The subtree registered with the master. */
  subtree: readonly number[];
  /** The variables to serve, fresh enough for the request at hand. */
  view(): readonly MibVar[];
  /** The session is gone (closed by the master, an error, an unanswered ping); called once. */
  onLost(reason: string): void;
  /** A request the session could not answer (a malformed PDU). */
  onError(message: string): void;
  timeoutMs?: number;
  pingEveryMs?: number;
}

/** An open, registered AgentX session; `AgentxSession.open` resolves once the master accepted the registration. */
export class AgentxSession {
  private buf: Buffer = Buffer.alloc(0);
  private ping: NodeJS.Timeout | null = null;
  private gone = false;
  private readonly timeoutMs: number;

  private constructor(private readonly sub: Subagent, private readonly o: SessionOptions) {
    this.timeoutMs = o.timeoutMs ?? 5000;
  }

  static async open(addr: AgentxAddress, o: SessionOptions): Promise<AgentxSession> {
    patchOctetStrings();
    // A socket path goes where net-snmp puts the port: net.Socket.connect(path, host) connects to the path.
    const sub = snmp.createSubagent('path' in addr ? { masterPort: addr.path, description: o.description } : { master: addr.host, masterPort: addr.port, description: o.description });
    const s = new AgentxSession(sub, o);
    let lastError = '';
    sub.on('error', (e: Error) => { lastError = e.message; });
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('connect timed out')), s.timeoutMs);
        sub.socket.once('connect', () => { clearTimeout(t); resolve(); });
        sub.socket.once('close', () => { clearTimeout(t); reject(new Error(lastError || 'connection closed')); });
      });
      sub.socket.removeAllListeners('data');
      sub.socket.on('data', (chunk: Buffer) => s.onData(chunk));
      sub.socket.on('close', () => s.lose(lastError ? `connection closed (${lastError})` : 'connection closed by the master agent'));
      await s.call('open', (cb) => sub.open(cb));
      await s.call('register', (cb) => sub.registerProvider({
        name: 'vrrpd', type: snmp.MibProviderType.Scalar, oid: o.subtree.join('.'), scalarType: T.Integer, maxAccess: snmp.MaxAccess['read-only'],
      }, cb));
    } catch (e) {
      s.gone = true;
      sub.socket.destroy();
      throw e;
    }
    const every = o.pingEveryMs ?? 15_000;
    s.ping = setInterval(() => { s.call('ping', (cb) => sub.ping(cb)).catch((e: Error) => s.lose(e.message)); }, every);
    s.ping.unref();
    return s;
  }

  /** Send a notification (the master turns it into traps/informs as snmpd.conf says); rejects when the session is gone. */
  notify(trap: readonly number[], vars: readonly MibVar[]): Promise<void> {
    if (this.gone) return Promise.reject(new Error('no AgentX session'));
    return this.call('notify', (cb) => this.sub.notify(trap.join('.'), vars.map(varbind), cb)).then(() => undefined, (e: Error) => {
      if (e instanceof NoAnswer) this.lose(e.message);
      throw e;
    });
  }

  /** Close the session (Close-PDU, bounded), then the socket. */
  async close(): Promise<void> {
    if (this.gone) return;
    this.gone = true;
    if (this.ping) clearInterval(this.ping);
    await this.call('close', (cb) => this.sub.close(cb), 1000).catch(() => undefined);
    this.sub.socket.destroy();
  }

  private lose(reason: string): void {
    if (this.gone) return;
    this.gone = true;
    if (this.ping) clearInterval(this.ping);
    this.sub.socket.destroy();
    this.o.onLost(reason);
  }

  /** One administrative request; rejects on an error status from the master or no answer in time. */
  private call(what: string, send: (cb: (e: Error | null, pdu: { error?: number }) => void) => void, timeoutMs = this.timeoutMs): Promise<{ error?: number }> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new NoAnswer(`${what}: no answer from the master agent in ${timeoutMs} ms`)), timeoutMs);
      try {
        send((e, pdu) => {
          clearTimeout(t);
          if (e) reject(e);
          else if (pdu.error) reject(new Error(`${what} refused by the master agent (AgentX error ${pdu.error})`));
          else resolve(pdu);
        });
      } catch (e) {
        clearTimeout(t);
        reject(e as Error);
      }
    });
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      const n = frameLength(this.buf);
      if (n === 0) return;
      if (n < 0) return this.lose('malformed AgentX stream from the master agent');
      const frame = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(n);
      try {
        this.dispatch(frame);
      } catch (e) {
        this.o.onError(`AgentX PDU type ${frame[1]}: ${(e as Error).message}`);
      }
    }
  }

  private dispatch(frame: Buffer): void {
    const type = frame[1];
    if (type === PDU.Response) return this.sub.onMsg(frame);
    if (type === PDU.CleanupSet) return;
    const req = parseRequest(frame);
    let error = 0, index = 0, varbinds: Varbind[] = [];
    if (type === PDU.TestSet) [error, index] = [NOT_WRITABLE, 1]; // the MIB is served read-only
    else if (type === PDU.Get || type === PDU.GetNext || type === PDU.GetBulk) varbinds = answer(req, this.o.view());
    else if (type !== PDU.CommitSet && type !== PDU.UndoSet) return;
    this.sub.sendPdu(snmp.AgentXPdu.createFromVariables({
      pduType: PDU.Response, sessionID: req.sessionID, transactionID: req.transactionID, packetID: req.packetID,
      sysUpTime: Math.floor(process.uptime() * 100) % 2 ** 32, error, index, varbinds,
    }));
  }
}
