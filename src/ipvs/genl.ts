// Generic netlink over the netlink core: genlmsghdr, family resolution through the nlctrl controller, a family socket.
import { getSystemErrorMap } from 'node:util';
import {
  attrMap, decodeAttrs, encodeAttrs, nlaStr, readStr, readU16, readU32, type NlAttr, type Result,
  HOST_LE, NLM_F_DUMP, NLM_F_REQUEST,
} from '../net/nlmsg.js';
import { NETLINK_GENERIC, NetlinkError, NetlinkSocket, type NetlinkOptions } from '../net/netlink.js';

// linux/genetlink.h: the controller's fixed id and struct genlmsghdr { u8 cmd; u8 version; u16 reserved; }
export const GENL_ID_CTRL = 0x10;
export const GENL_HDRLEN = 4;
// linux/genetlink.h: enum CTRL_CMD_*, CTRL_ATTR_*, CTRL_ATTR_MCAST_GRP_*
export const CTRL_CMD_NEWFAMILY = 1;
export const CTRL_CMD_GETFAMILY = 3;
export const CTRL_ATTR_FAMILY_ID = 1;
export const CTRL_ATTR_FAMILY_NAME = 2;
export const CTRL_ATTR_VERSION = 3;
export const CTRL_ATTR_HDRSIZE = 4;
export const CTRL_ATTR_MAXATTR = 5;
export const CTRL_ATTR_OPS = 6;
export const CTRL_ATTR_MCAST_GROUPS = 7;
export const CTRL_ATTR_MCAST_GRP_NAME = 1;
export const CTRL_ATTR_MCAST_GRP_ID = 2;
/** The controller's own version, as libnl's genl_ctrl_resolve sends it. */
const CTRL_VERSION = 1;
const ENOENT = -2;

export interface GenlHeader {
  cmd: number;
  version: number;
  reserved: number;
}

/** struct genlmsghdr, then the attributes (already encoded). */
export function encodeGenl(cmd: number, version: number, attrs: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(GENL_HDRLEN + attrs.length);
  out[0] = cmd;
  out[1] = version;
  out.set(attrs, GENL_HDRLEN);
  return out;
}

/** The genlmsghdr of a payload and the attribute bytes after it; null under 4 bytes. */
export function decodeGenl(payload: Uint8Array): (GenlHeader & { attrs: Uint8Array }) | null {
  if (payload.length < GENL_HDRLEN) return null;
  // Read in place: a dump of a big table is tens of thousands of messages (no DataView, no Buffer#subarray per field).
  const reserved = HOST_LE ? payload[2]! | (payload[3]! << 8) : (payload[2]! << 8) | payload[3]!;
  const attrs = new Uint8Array(payload.buffer, payload.byteOffset + GENL_HDRLEN, payload.length - GENL_HDRLEN);
  return { cmd: payload[0]!, version: payload[1]!, reserved, attrs };
}

export interface GenlFamily {
  id: number;
  name: string;
  version: number;
  hdrSize: number;
  maxAttr: number;
  /** Multicast groups by name → group id. */
  mcastGroups: Map<string, number>;
}

/** The CTRL_CMD_GETFAMILY payload asking for a family by name. */
export const getFamilyPayload = (name: string): Uint8Array =>
  encodeGenl(CTRL_CMD_GETFAMILY, CTRL_VERSION, encodeAttrs([nlaStr(CTRL_ATTR_FAMILY_NAME, name)]));

function nestedList(a: NlAttr | undefined): NlAttr[] {
  if (!a) return [];
  const r = decodeAttrs(a.value);
  return r.ok ? r.value : [];
}

/** Parse a CTRL_CMD_NEWFAMILY reply. */
export function parseFamily(payload: Uint8Array): Result<GenlFamily> {
  const g = decodeGenl(payload);
  if (!g) return { ok: false, error: `genl payload of ${payload.length} bytes, under the 4-byte genlmsghdr` };
  const attrs = decodeAttrs(g.attrs);
  if (!attrs.ok) return attrs;
  const m = attrMap(attrs.value);
  const id = m.get(CTRL_ATTR_FAMILY_ID) ? readU16(m.get(CTRL_ATTR_FAMILY_ID)!.value) : null;
  const name = m.get(CTRL_ATTR_FAMILY_NAME);
  if (id === null || !name) return { ok: false, error: 'CTRL_CMD_NEWFAMILY without CTRL_ATTR_FAMILY_ID or CTRL_ATTR_FAMILY_NAME' };
  const u32 = (t: number) => (m.get(t) ? readU32(m.get(t)!.value) ?? 0 : 0);
  const mcastGroups = new Map<string, number>();
  for (const grp of nestedList(m.get(CTRL_ATTR_MCAST_GROUPS))) {
    const gm = attrMap(nestedList(grp));
    const gname = gm.get(CTRL_ATTR_MCAST_GRP_NAME);
    const gid = gm.get(CTRL_ATTR_MCAST_GRP_ID);
    if (gname && gid) mcastGroups.set(readStr(gname.value), readU32(gid.value) ?? 0);
  }
  return {
    ok: true,
    value: { id, name: readStr(name.value), version: u32(CTRL_ATTR_VERSION), hdrSize: u32(CTRL_ATTR_HDRSIZE), maxAttr: u32(CTRL_ATTR_MAXATTR), mcastGroups },
  };
}

/** A generic netlink family the kernel does not have (CTRL_CMD_GETFAMILY answered ENOENT): its module is not loaded. */
export class GenlFamilyNotFoundError extends NetlinkError {
  constructor(readonly family: string, detail = `generic netlink family "${family}" not found (its kernel module is not loaded)`) {
    super(ENOENT, 'CTRL_CMD_GETFAMILY', detail);
    this.name = 'GenlFamilyNotFoundError';
  }
}

/** IPVS is not in this kernel (or this network namespace's kernel): the ip_vs module is not loaded. */
export class IpvsUnavailableError extends GenlFamilyNotFoundError {
  constructor() {
    super('IPVS', 'IPVS unavailable: the kernel has no generic netlink family "IPVS" (load the ip_vs module: modprobe ip_vs)');
    this.name = 'IpvsUnavailableError';
  }
}

/** Resolve a family by name on a NETLINK_GENERIC socket; GenlFamilyNotFoundError (ENOENT) when the kernel has none. */
export async function resolveFamily(sock: NetlinkSocket, name: string): Promise<GenlFamily> {
  let msgs;
  try {
    msgs = await sock.request(GENL_ID_CTRL, NLM_F_REQUEST, getFamilyPayload(name));
  } catch (e) {
    if (e instanceof NetlinkError && e.errno === ENOENT) throw new GenlFamilyNotFoundError(name);
    throw e;
  }
  const reply = msgs.find((m) => m.type === GENL_ID_CTRL);
  if (!reply) throw new NetlinkError(-71, 'CTRL_CMD_GETFAMILY', `no CTRL_CMD_NEWFAMILY reply for "${name}"`);
  const f = parseFamily(reply.payload);
  if (!f.ok) throw new NetlinkError(-71, 'CTRL_CMD_GETFAMILY', f.error);
  return f.value;
}

export interface GenlMsg extends GenlHeader {
  /** nlmsg_flags of the reply (NLM_F_MULTI in dumps). */
  flags: number;
  attrs: Uint8Array;
}

export interface GenlRequestOptions {
  dump?: boolean;
  timeoutMs?: number;
  /** Prefixed to the error text, e.g. the service the request was about (a function: built only for an error). */
  context?: string | (() => string);
  /** What an errno means for this command (ESRCH: "no such service"), added to the error text. */
  hint?: (errno: number) => string | undefined;
}

export interface GenlOpenOptions extends NetlinkOptions {
  /** Names commands in errors (IPVS_CMD_NEW_SERVICE...). */
  cmdName?: (cmd: number) => string;
}

/** A NETLINK_GENERIC socket bound to one resolved family. Requests pipeline; dumps run one at a time (netlink core). */
export class GenlSocket {
  private constructor(private readonly sock: NetlinkSocket, readonly family: GenlFamily, private readonly cmdName: (cmd: number) => string) {}

  /** Open a socket and resolve `name`; the socket is closed again when resolution fails. */
  static async open(name: string, options: GenlOpenOptions = {}): Promise<GenlSocket> {
    let familyId = -1;
    const sock = await NetlinkSocket.open(NETLINK_GENERIC, [], {
      ...options, typeName: (t) => (t === GENL_ID_CTRL ? 'nlctrl' : t === familyId ? name : `genl type ${t}`),
    });
    try {
      const family = await resolveFamily(sock, name);
      familyId = family.id;
      return new GenlSocket(sock, family, options.cmdName ?? ((c) => `${name} cmd ${c}`));
    } catch (e) {
      sock.close();
      throw e;
    }
  }

  /** Send one command with the family's version; resolves with the family's reply messages (the ack/DONE stripped). */
  request(cmd: number, attrs: Uint8Array, options: GenlRequestOptions = {}): Promise<GenlMsg[]> {
    const dump = options.dump ?? false;
    // One promise per request (no async wrapper): a bulk apply sends tens of thousands.
    return this.sock.request(this.family.id, NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0),
      encodeGenl(cmd, this.family.version, attrs), options.timeoutMs ? { dump, timeoutMs: options.timeoutMs } : { dump })
      .then((msgs) => {
        const out: GenlMsg[] = [];
        for (const m of msgs) {
          if (m.type !== this.family.id) continue;
          const g = decodeGenl(m.payload);
          if (g) out.push({ cmd: g.cmd, version: g.version, reserved: g.reserved, flags: m.flags, attrs: g.attrs });
        }
        return out;
      }, (e: unknown) => {
        throw this.rename(e, cmd, options);
      });
  }

  close(): void {
    this.sock.close();
  }

  get isClosed(): boolean {
    return this.sock.isClosed;
  }

  /** The core names the op by message type (the family); name it by command, with the request's context. */
  private rename(e: unknown, cmd: number, { context, hint }: GenlRequestOptions): unknown {
    if (!(e instanceof NetlinkError)) return e;
    const why = hint?.(e.errno);
    const at = e.message.indexOf(`${e.code}: `);
    const text = at >= 0 ? e.message.slice(at + e.code.length + 2) : e.extAck.msg ?? getSystemErrorMap().get(e.errno)?.[1] ?? e.message;
    const ctx = typeof context === 'function' ? context() : context;
    const detail = `${ctx ? `${ctx}: ` : ''}${text}${why ? ` (${why})` : ''}`;
    const err = new NetlinkError(e.errno, this.cmdName(cmd), detail, e.extAck);
    err.cause = e;
    return err;
  }
}
