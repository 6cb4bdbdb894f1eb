// Netlink framing, pure: nlmsghdr, attributes (nested, 4-byte aligned), NLMSG_ERROR/NLMSG_DONE with extended ack.
// Family-agnostic (rtnetlink, generic netlink). Host byte order, as the kernel uses. Decoders never throw.

/** A decode outcome: the value, or the reason the bytes were not acceptable. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

// linux/netlink.h: message types below NLMSG_MIN_TYPE are control messages.
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
export const NLMSG_MIN_TYPE = 0x10;

// linux/netlink.h: nlmsg_flags.
export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ECHO = 0x08;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP_FILTERED = 0x20;
// Modifiers to GET requests.
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_ATOMIC = 0x400;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
// Modifiers to NEW requests.
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
// Flags of an NLMSG_ERROR acknowledgment.
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

// linux/netlink.h: enum nlmsgerr_attrs (extended ack TLVs after the echoed request).
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;
export const NLMSGERR_ATTR_COOKIE = 3;
export const NLMSGERR_ATTR_MISS_TYPE = 5;
export const NLMSGERR_ATTR_MISS_NEST = 6;

// linux/netlink.h: struct nlattr nla_type bits.
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;

/** NLMSG_ALIGN / NLA_ALIGN: round up to a multiple of 4. */
export const align4 = (n: number): number => (n + 3) & ~3;

/** Netlink data is in the host's byte order. */
export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

// ---------------------------------------------------------------------------------------------
// nlmsghdr — linux/netlink.h: struct nlmsghdr { u32 len; u16 type; u16 flags; u32 seq; u32 pid; }

export interface NlHeader {
  type: number;
  flags: number;
  seq: number;
  /** Port id: 0 for the kernel. */
  pid: number;
}

export interface NlMsg extends NlHeader {
  /** The bytes after the 16-byte header, up to nlmsg_len (family header and attributes). */
  payload: Uint8Array;
}

/** Concatenate parts, each padded to 4 bytes. */
export function concatAligned(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + align4(p.length), 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += align4(p.length);
  }
  return out;
}

/** One netlink message: header plus payload parts (family header, attributes), padded to 4 bytes. */
export function encodeNlmsg(h: NlHeader, ...payload: Uint8Array[]): Uint8Array {
  const body = concatAligned(payload);
  const out = new Uint8Array(NLMSG_HDRLEN + body.length);
  const dv = view(out);
  dv.setUint32(0, out.length, HOST_LE);
  dv.setUint16(4, h.type, HOST_LE);
  dv.setUint16(6, h.flags, HOST_LE);
  dv.setUint32(8, h.seq >>> 0, HOST_LE);
  dv.setUint32(12, h.pid >>> 0, HOST_LE);
  out.set(body, NLMSG_HDRLEN);
  return out;
}

/** The header at the start of the bytes, even when the message itself is truncated; null under 16 bytes. */
export function peekHeader(buf: Uint8Array): (NlHeader & { len: number }) | null {
  if (buf.length < NLMSG_HDRLEN) return null;
  const dv = view(buf);
  return {
    len: dv.getUint32(0, HOST_LE), type: dv.getUint16(4, HOST_LE), flags: dv.getUint16(6, HOST_LE),
    seq: dv.getUint32(8, HOST_LE), pid: dv.getUint32(12, HOST_LE),
  };
}

/**
 * Split a datagram into messages (NLMSG_OK / NLMSG_NEXT). Messages before a malformed one are kept;
 * `error` names the problem (a short header or a length running past the data) found at `offset`.
 */
export function decodeNlmsgs(buf: Uint8Array): { messages: NlMsg[]; error: string | null; offset: number } {
  const messages: NlMsg[] = [];
  let off = 0;
  const fail = (error: string) => ({ messages, error, offset: off });
  while (off < buf.length) {
    const h = peekHeader(buf.subarray(off));
    if (!h) return fail(`truncated nlmsghdr at offset ${off}: ${buf.length - off} bytes`);
    if (h.len < NLMSG_HDRLEN) return fail(`nlmsg_len ${h.len} below the header size at offset ${off}`);
    if (off + h.len > buf.length) return fail(`nlmsg_len ${h.len} at offset ${off} runs past the ${buf.length} bytes received`);
    messages.push({ type: h.type, flags: h.flags, seq: h.seq, pid: h.pid, payload: buf.subarray(off + NLMSG_HDRLEN, off + h.len) });
    off += align4(h.len);
  }
  return { messages, error: null, offset: off };
}

// ---------------------------------------------------------------------------------------------
// Attributes — linux/netlink.h: struct nlattr { u16 nla_len; u16 nla_type; } (rtattr has the same layout)

/** An attribute to encode: raw bytes, or nested attributes (NLA_F_NESTED set unless nestedFlag is false). */
export type NlAttrIn =
  | { type: number; value: Uint8Array }
  | { type: number; nested: readonly NlAttrIn[]; nestedFlag?: boolean };

/** A decoded attribute. `type` has the flag bits masked off. */
export interface NlAttr {
  type: number;
  nested: boolean;
  netByteOrder: boolean;
  value: Uint8Array;
}

function attrSize(a: NlAttrIn): number {
  return 'value' in a ? NLA_HDRLEN + a.value.length : NLA_HDRLEN + a.nested.reduce((n, c) => n + align4(attrSize(c)), 0);
}

function writeAttr(out: Uint8Array, off: number, a: NlAttrIn): number {
  const len = attrSize(a);
  if (len > 0xffff) throw new RangeError(`attribute ${a.type} is ${len} bytes, over nla_len's 65535`);
  const dv = view(out);
  dv.setUint16(off, len, HOST_LE);
  if ('value' in a) {
    dv.setUint16(off + 2, a.type, HOST_LE);
    out.set(a.value, off + NLA_HDRLEN);
  } else {
    dv.setUint16(off + 2, a.nestedFlag === false ? a.type : a.type | NLA_F_NESTED, HOST_LE);
    let o = off + NLA_HDRLEN;
    for (const c of a.nested) o = writeAttr(out, o, c);
  }
  return off + align4(len);
}

/** Encode attributes, each padded to 4 bytes. Throws RangeError only for an attribute over 64 KiB. */
export function encodeAttrs(attrs: readonly NlAttrIn[]): Uint8Array {
  const out = new Uint8Array(attrs.reduce((n, a) => n + align4(attrSize(a)), 0));
  let off = 0;
  for (const a of attrs) off = writeAttr(out, off, a);
  return out;
}

/** Decode a run of attributes (one level; decode `value` again for nested ones). Never throws. */
export function decodeAttrs(buf: Uint8Array): Result<NlAttr[]> {
  const attrs: NlAttr[] = [];
  const dv = view(buf);
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = dv.getUint16(off, HOST_LE);
    const rawType = dv.getUint16(off + 2, HOST_LE);
    if (len < NLA_HDRLEN) return { ok: false, error: `nla_len ${len} below the header size at offset ${off}` };
    if (off + len > buf.length) return { ok: false, error: `attribute ${rawType & NLA_TYPE_MASK} of ${len} bytes at offset ${off} runs past ${buf.length}` };
    attrs.push({
      type: rawType & NLA_TYPE_MASK, nested: (rawType & NLA_F_NESTED) !== 0,
      netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0, value: buf.subarray(off + NLA_HDRLEN, off + len),
    });
    off += align4(len);
  }
  // Anything left is trailing padding shorter than a header (tolerated, as nla_parse does).
  return { ok: true, value: attrs };
}

/** Last attribute of each type (the kernel's nla_parse keeps the last one too). */
export function attrMap(attrs: readonly NlAttr[]): Map<number, NlAttr> {
  return new Map(attrs.map((a) => [a.type, a]));
}

// Attribute value builders.
export const nlaBytes = (type: number, value: Uint8Array): NlAttrIn => ({ type, value });
export const nlaNest = (type: number, nested: readonly NlAttrIn[], nestedFlag = true): NlAttrIn => ({ type, nested, nestedFlag });
export const nlaU8 = (type: number, v: number): NlAttrIn => ({ type, value: Uint8Array.of(v & 0xff) });
export function nlaU16(type: number, v: number, netOrder = false): NlAttrIn {
  const b = new Uint8Array(2);
  view(b).setUint16(0, v, netOrder ? false : HOST_LE);
  return { type, value: b };
}
export function nlaU32(type: number, v: number, netOrder = false): NlAttrIn {
  const b = new Uint8Array(4);
  view(b).setUint32(0, v >>> 0, netOrder ? false : HOST_LE);
  return { type, value: b };
}
export function nlaU64(type: number, v: bigint): NlAttrIn {
  const b = new Uint8Array(8);
  view(b).setBigUint64(0, v, HOST_LE);
  return { type, value: b };
}
/** NUL-terminated string (NLA_NUL_STRING / NLA_STRING both accept it). */
export const nlaStr = (type: number, s: string): NlAttrIn => {
  const enc = new TextEncoder().encode(s);
  const b = new Uint8Array(enc.length + 1);
  b.set(enc);
  return { type, value: b };
};

// Attribute value readers: null when the size is wrong.
export const readU8 = (v: Uint8Array): number | null => (v.length >= 1 ? v[0]! : null);
export const readU16 = (v: Uint8Array, netOrder = false): number | null =>
  (v.length >= 2 ? view(v).getUint16(0, netOrder ? false : HOST_LE) : null);
export const readU32 = (v: Uint8Array, netOrder = false): number | null =>
  (v.length >= 4 ? view(v).getUint32(0, netOrder ? false : HOST_LE) : null);
export const readI32 = (v: Uint8Array): number | null => (v.length >= 4 ? view(v).getInt32(0, HOST_LE) : null);
export const readU64 = (v: Uint8Array): bigint | null => (v.length >= 8 ? view(v).getBigUint64(0, HOST_LE) : null);
/** A string attribute up to its first NUL (or its end). */
export function readStr(v: Uint8Array): string {
  const nul = v.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? v : v.subarray(0, nul));
}

// ---------------------------------------------------------------------------------------------
// NLMSG_ERROR / NLMSG_DONE — linux/netlink.h: struct nlmsgerr { int error; struct nlmsghdr msg; }

export interface ExtAck {
  /** NLMSGERR_ATTR_MSG: the kernel's human-readable reason. */
  msg?: string;
  /** NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request. */
  offset?: number;
  cookie?: Uint8Array;
  /** NLMSGERR_ATTR_MISS_TYPE: the attribute type that was required but missing. */
  missingType?: number;
  missingNest?: number;
}

export interface NlmsgErr {
  /** 0 for an acknowledgment, else a negative errno (-17 is EEXIST). */
  error: number;
  /** The header of the request this answers (null only when the kernel sent none). */
  request: NlHeader | null;
  extAck: ExtAck;
}

function decodeExtAck(tlvs: Uint8Array): Result<ExtAck> {
  const attrs = decodeAttrs(tlvs);
  if (!attrs.ok) return attrs;
  const ext: ExtAck = {};
  for (const a of attrs.value) {
    if (a.type === NLMSGERR_ATTR_MSG) ext.msg = readStr(a.value);
    else if (a.type === NLMSGERR_ATTR_OFFS) ext.offset = readU32(a.value) ?? undefined;
    else if (a.type === NLMSGERR_ATTR_COOKIE) ext.cookie = a.value;
    else if (a.type === NLMSGERR_ATTR_MISS_TYPE) ext.missingType = readU32(a.value) ?? undefined;
    else if (a.type === NLMSGERR_ATTR_MISS_NEST) ext.missingNest = readU32(a.value) ?? undefined;
  }
  return { ok: true, value: ext };
}

/**
 * Parse an NLMSG_ERROR message. The echoed request is capped (NLM_F_CAPPED: header only) or whole;
 * extended-ack TLVs follow it when NLM_F_ACK_TLVS is set (linux/netlink.h, netlink_ack()).
 */
export function decodeNlmsgErr(msg: NlMsg): Result<NlmsgErr> {
  const p = msg.payload;
  const error = readI32(p);
  if (error === null) return { ok: false, error: `NLMSG_ERROR payload of ${p.length} bytes, under 4` };
  const req = peekHeader(p.subarray(4));
  if (!req) {
    // Only the errno: acceptable for a bare ack, but no TLVs can follow.
    return { ok: true, value: { error, request: null, extAck: {} } };
  }
  const request: NlHeader = { type: req.type, flags: req.flags, seq: req.seq, pid: req.pid };
  let tlvStart = 4 + NLMSG_HDRLEN;
  if (!(msg.flags & NLM_F_CAPPED)) {
    if (req.len < NLMSG_HDRLEN) return { ok: false, error: `echoed nlmsg_len ${req.len} below the header size` };
    tlvStart = 4 + align4(req.len);
  }
  if (!(msg.flags & NLM_F_ACK_TLVS)) return { ok: true, value: { error, request, extAck: {} } };
  if (tlvStart > p.length) return { ok: false, error: `echoed request of ${req.len} bytes runs past the NLMSG_ERROR payload` };
  const ext = decodeExtAck(p.subarray(tlvStart));
  if (!ext.ok) return { ok: false, error: `extended ack: ${ext.error}` };
  return { ok: true, value: { error, request, extAck: ext.value } };
}

/** Parse NLMSG_DONE: the dump's final status (int, 0 or -errno) and optional ext-ack TLVs. */
export function decodeNlmsgDone(msg: NlMsg): Result<{ error: number; extAck: ExtAck }> {
  const error = readI32(msg.payload) ?? 0; // very old kernels sent an empty NLMSG_DONE
  if (!(msg.flags & NLM_F_ACK_TLVS) || msg.payload.length <= 4) return { ok: true, value: { error, extAck: {} } };
  const ext = decodeExtAck(msg.payload.subarray(4));
  if (!ext.ok) return { ok: false, error: `extended ack: ${ext.error}` };
  return { ok: true, value: { error, extAck: ext.value } };
}
