// The VRRP socket filter (net/bpf.ts) run by a classic-BPF interpreter on byte fixtures: ours pass, junk does not.
import { describe, expect, it } from 'vitest';
import { BPF, encodeFilter, vrrpFilter, type BpfInsn } from '../../src/net/bpf.js';
import { encodeAdvert } from '../../src/protocol/advert.js';
import { addressToBytes } from '../../src/protocol/addr.js';
import { buildIpv4Header } from '../../src/protocol/ip.js';
import { rng } from '../../src/sim/segment.js';

/** A classic BPF interpreter for the instructions the filter uses (linux/filter.h semantics; out-of-bounds loads drop). */
function runBpf(prog: readonly BpfInsn[], pkt: Uint8Array): number {
  let a = 0;
  let x = 0;
  const m = new Array<number>(16).fill(0);
  for (let pc = 0, steps = 0; pc < prog.length && steps < 4096; pc++, steps++) {
    const { code, jt, jf, k } = prog[pc]!;
    const cls = code & 0x07;
    const mode = code & 0xe0;
    const size = code & 0x18;
    const load = (off: number): number | null => {
      const n = size === BPF.B ? 1 : size === 0x08 ? 2 : 4;
      if (off < 0 || off + n > pkt.length) return null;
      let v = 0;
      for (let i = 0; i < n; i++) v = (v << 8) | pkt[off + i]!;
      return v >>> 0;
    };
    if (cls === BPF.LD) {
      if (mode === BPF.IMM) a = k;
      else if (mode === BPF.LEN) a = pkt.length;
      else if (mode === BPF.MEM) a = m[k]!;
      else {
        const v = load(mode === BPF.ABS ? k : x + k);
        if (v === null) return 0;
        a = v;
      }
    } else if (cls === BPF.LDX) {
      if (mode === BPF.IMM) x = k;
      else if (mode === BPF.MEM) x = m[k]!;
      else if (mode === BPF.MSH) { if (k >= pkt.length) return 0; x = (pkt[k]! & 0xf) * 4; } else throw new Error(`ldx mode ${mode}`);
    } else if (cls === BPF.ST) m[k] = a;
    else if (cls === BPF.ALU) {
      const src = code & BPF.X ? x : k;
      const aop = code & 0xf0;
      if (aop === BPF.ADD) a = (a + src) >>> 0;
      else if (aop === BPF.LSH) a = (a << src) >>> 0;
      else throw new Error(`alu ${aop}`);
    } else if (cls === BPF.JMP) {
      const jop = code & 0xf0;
      if (jop === BPF.JA) { pc += k; continue; }
      const src = code & BPF.X ? x : k;
      if (jop !== BPF.JEQ) throw new Error(`jmp ${jop}`);
      pc += a === src ? jt : jf;
    } else if (cls === BPF.RET) return k;
    else if (cls === BPF.MISC) { if (code & BPF.TXA) a = x; else x = a; }
  }
  throw new Error('ran off the end');
}

const SRC = '192.168.1.251';
const DST = '224.0.0.18';

function ipv4(payload: Uint8Array, opts: { ihlWords?: number } = {}): Uint8Array {
  const h = buildIpv4Header({ src: addressToBytes(SRC, 4)!, dst: addressToBytes(DST, 4)!, payloadLength: payload.length, id: 1 });
  const opt = ((opts.ihlWords ?? 5) - 5) * 4;
  const out = new Uint8Array(h.length + opt + payload.length);
  out.set(h);
  out[0] = 0x40 | (opts.ihlWords ?? 5);
  out.set(payload, h.length + opt);
  return out;
}

const advert = (o: { version?: 2 | 3; vrid?: number; n?: number; family?: 4 | 6 } = {}) => encodeAdvert({
  version: o.version ?? 3, family: o.family ?? 4, vrid: o.vrid ?? 100, priority: 200, intervalCs: 100,
  addresses: Array.from({ length: o.n ?? 1 }, (_, i) => (o.family === 6 ? `2001:db8::${i + 1}` : `192.168.1.${i + 1}`)),
  src: o.family === 6 ? 'fe80::1' : SRC, dst: o.family === 6 ? 'ff02::12' : DST,
});

describe('VRRP socket filter (classic BPF)', () => {
  const f4 = vrrpFilter({ family: 4, vrids: [100, 7] });
  const f6 = vrrpFilter({ family: 6, vrids: [100] });

  it('accepts adverts of our VRIDs, v2 and v3, any address count, with or without IP options', () => {
    for (const version of [2, 3] as const) {
      for (const vrid of [100, 7]) {
        for (const n of [0, 1, 5, 20]) expect(runBpf(f4, ipv4(advert({ version, vrid, n })))).toBeGreaterThan(0);
      }
    }
    expect(runBpf(f4, ipv4(advert(), { ihlWords: 6 }))).toBeGreaterThan(0);
    expect(runBpf(f6, advert({ family: 6, n: 3 }))).toBeGreaterThan(0);
  });

  it('a bad checksum or a forged priority still passes: the decoder and the engine count those by reason', () => {
    const a = advert();
    a[6] = a[6]! ^ 0xff;
    a[2] = 255;
    expect(runBpf(f4, ipv4(a))).toBeGreaterThan(0);
  });

  it('drops other VRIDs, other types/versions, truncated or padded messages, and empty packets', () => {
    expect(runBpf(f4, ipv4(advert({ vrid: 101 })))).toBe(0);
    const t = advert(); t[0] = 0x32; // v3, type 2
    expect(runBpf(f4, ipv4(t))).toBe(0);
    const v1 = advert(); v1[0] = 0x11;
    expect(runBpf(f4, ipv4(v1))).toBe(0);
    const full = advert({ n: 2 });
    expect(runBpf(f4, ipv4(full.subarray(0, full.length - 1)))).toBe(0);
    expect(runBpf(f4, ipv4(new Uint8Array([...full, 0, 0, 0, 0])))).toBe(0);
    expect(runBpf(f4, ipv4(new Uint8Array(0)))).toBe(0);
    expect(runBpf(f4, new Uint8Array(0))).toBe(0);
    expect(runBpf(f6, advert({ family: 6, vrid: 9 }))).toBe(0);
    expect(runBpf(vrrpFilter({ family: 4, vrids: [] }), ipv4(advert()))).toBe(0);
  });

  it('random bytes almost never pass, and never crash the program (10^4 packets)', () => {
    const r = rng(11);
    let passed = 0;
    for (let i = 0; i < 10_000; i++) {
      const len = Math.floor(r() * 80);
      const p = Uint8Array.from({ length: len }, () => Math.floor(r() * 256));
      if (runBpf(f4, ipv4(p)) > 0) passed++;
      runBpf(f6, p);
    }
    expect(passed).toBeLessThan(5);
  });

  it('encodes 8-byte struct sock_filter records, host order, within BPF_MAXINSNS', () => {
    const f = vrrpFilter({ family: 4, vrids: Array.from({ length: 255 }, (_, i) => i + 1) });
    expect(f.length).toBeLessThan(4096);
    const bytes = encodeFilter(f);
    expect(bytes.length).toBe(f.length * 8);
    const v = new DataView(bytes.buffer);
    const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
    expect(v.getUint16(0, le)).toBe(f[0]!.code);
    expect(v.getUint32(f.length * 8 - 4, le)).toBe(0); // the last instruction: drop
  });
});
