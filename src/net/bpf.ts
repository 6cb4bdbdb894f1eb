// Classic BPF socket filters for the VRRP sockets: the kernel drops what is not an advert for one of our VRIDs before JavaScript sees it.
//
// What the kernel drops cannot be counted by reason (it keeps no per-filter counter): the filter only
// drops packets that are not ours at all (other protocols' bytes, other VRIDs, non-advert types, a
// length that disagrees with the address count). Everything that could be a misconfigured peer or a
// forgery for our VRIDs — a bad checksum, a TTL other than 255, the other VRRP version, an address
// list that differs — still reaches the decoder and the engine and is counted by reason there.

/** One struct sock_filter: { u16 code; u8 jt; u8 jf; u32 k } in host byte order. */
export interface BpfInsn { code: number; jt: number; jf: number; k: number }

// linux/bpf_common.h, linux/filter.h
const LD = 0x00, LDX = 0x01, ST = 0x02, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00, B = 0x10;
const IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;
const ADD = 0x00, LSH = 0x60, JEQ = 0x10, JA = 0x00, K = 0x00, X = 0x08;
const TAX = 0x00, TXA = 0x80;

export const BPF = { LD, LDX, ST, ALU, JMP, RET, MISC, W, B, IMM, ABS, IND, MEM, LEN, MSH, ADD, LSH, JEQ, JA, K, X, TAX, TXA } as const;

/** Accept: up to this many bytes of the packet (all of it). */
const ACCEPT = 0x40000;
/** VRRP version/type bytes of an ADVERTISEMENT: v2 (0x21) and v3 (0x31); both pass, so a version mismatch is counted. */
const ADVERT_TYPES = [0x21, 0x31];

export interface VrrpFilterSpec {
  family: 4 | 6;
  /** The VRIDs of the instances on this socket (1-255); an empty list drops every packet. */
  vrids: readonly number[];
}

/**
 * The filter for a VRRP raw socket. IPv4 raw sockets see the IP header (the VRRP message follows
 * IHL × 4 bytes); IPv6 raw sockets see the VRRP message only. Accepted: version/type 0x21 or 0x31,
 * a VRID of ours, and a length equal to 8 + 4 × count (+ 8 of v2 authentication) for IPv4, or
 * 8 + 16 × count for IPv6 (RFC 3768 §5.1, RFC 5798 §5.2).
 */
export function vrrpFilter(spec: VrrpFilterSpec): BpfInsn[] {
  const vrids = [...new Set(spec.vrids)].filter((v) => Number.isInteger(v) && v >= 1 && v <= 255).sort((a, b) => a - b);
  const p: BpfInsn[] = [];
  const op = (code: number, k = 0, jt = 0, jf = 0) => { p.push({ code, jt, jf, k }); };
  const drop = () => op(RET | K, 0);
  const v4 = spec.family === 4;
  const at = (off: number) => (v4 ? { code: LD | B | IND, k: off } : { code: LD | B | ABS, k: off });
  const load = (off: number) => { const l = at(off); op(l.code, l.k); };

  if (v4) {
    op(LDX | B | MSH, 0); //          X = 4 × IHL
    op(MISC | TXA); op(ST, 1); //     M[1] = header length
  } else {
    op(LDX | W | IMM, 0); op(MISC | TXA); op(ST, 1); // M[1] = 0: no header in front
  }
  // The version/type byte: an advert of v2 or v3. Every jump is short: drops are local RETs.
  load(0);
  op(JMP | JEQ | K, ADVERT_TYPES[0]!, 2, 0); //   0x21: v2
  op(JMP | JEQ | K, ADVERT_TYPES[1]!, 3, 0); //   0x31: v3
  drop();
  op(LD | W | IMM, v4 ? 16 : 8); op(JMP | JA, 1); // v2 fixed part: 8 + 8 authentication (IPv6 has no v2: the decoder counts it)
  op(LD | W | IMM, 8); //            v3 fixed part
  op(ST, 0); //                      M[0] = fixed part
  // The VRID: one of ours (jeq, then a 32-bit `ja` to the length check: any number of VRIDs fits).
  load(1);
  const toLength: number[] = [];
  for (const v of vrids) {
    op(JMP | JEQ | K, v, 0, 1);
    toLength.push(p.length);
    op(JMP | JA, 0);
  }
  drop();
  // The length: fixed part + count × address size + header == the packet's length.
  const lengthCheck = p.length;
  for (const j of toLength) p[j]!.k = lengthCheck - j - 1;
  load(3);
  op(ALU | LSH | K, v4 ? 2 : 4);
  op(LDX | W | MEM, 0); op(ALU | ADD | X);
  op(LDX | W | MEM, 1); op(ALU | ADD | X);
  op(MISC | TAX);
  op(LD | W | LEN);
  op(JMP | JEQ | X, 0, 0, 1);
  op(RET | K, ACCEPT);
  drop();
  for (const [i, insn] of p.entries()) {
    if ((insn.code & 0x07) === JMP && (insn.jt > 255 || insn.jf > 255 || i + 1 + Math.max(insn.jt, insn.jf) >= p.length)) {
      throw new RangeError(`BPF jump out of range at ${i}`);
    }
  }
  return p;
}

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The program as the kernel takes it: 8-byte struct sock_filter records in host byte order. */
export function encodeFilter(prog: readonly BpfInsn[]): Uint8Array {
  const out = new Uint8Array(prog.length * 8);
  const v = new DataView(out.buffer);
  prog.forEach((insn, i) => {
    v.setUint16(i * 8, insn.code, HOST_LE);
    v.setUint8(i * 8 + 2, insn.jt);
    v.setUint8(i * 8 + 3, insn.jf);
    v.setUint32(i * 8 + 4, insn.k >>> 0, HOST_LE);
  });
  return out;
}
