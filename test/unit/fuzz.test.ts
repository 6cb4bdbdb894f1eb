// Fuzzing in the tests (a small run; `npm run bench:fuzz` does ≥ 10^6): decoder, keepalived.conf, YAML config, control line never throw.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeAdvert } from '../../src/protocol/advert.js';
import { decodeRequestLine } from '../../src/control/protocol.js';
import { parseConfig } from '../../src/config/load.js';
import { inputSeed, rng, TARGETS, type TargetName } from '../../bench/lib/fuzz-targets.js';

/** Generated inputs (the benchmark's generators, seeds from fast-check): none may throw or take over `maxMs`. */
async function noCrash(target: TargetName, runs: number, maxMs: number): Promise<void> {
  const t = TARGETS[target] as unknown as { gen: (r: () => number) => unknown; run: (x: unknown) => void | Promise<void> };
  let slowest = 0;
  await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
    const x = t.gen(rng(inputSeed(seed, 0)));
    const a = performance.now();
    await t.run(x);
    slowest = Math.max(slowest, performance.now() - a);
  }), { numRuns: runs });
  expect(slowest).toBeLessThan(maxMs);
}

describe('fuzz: wire and config input never throws', () => {
  it('decodeAdvert: fast-check bytes and contexts, then mutated adverts', async () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), fc.constantFrom(4 as const, 6 as const),
      fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 }), fc.integer({ min: 0, max: 255 }), (p, family, src, dst, ttl) => {
        const d = decodeAdvert(p, { family, src, dst, ttl });
        expect(typeof d.ok).toBe('boolean');
      }), { numRuns: 3000 });
    await noCrash('advert', 3000, 1000);
  });

  it('the control socket line: any text, any JSON', async () => {
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.json({ maxDepth: 4 })), (line) => {
      const d = decodeRequestLine(line);
      expect(d.ok || d.reply.ok === false).toBe(true);
    }), { numRuns: 2000 });
    await noCrash('control', 1500, 1000);
  });

  it('the YAML config loader: any text, config-shaped documents, mutated seeds', async () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => {
      expect(typeof parseConfig(text, '/nonexistent/f.yaml').ok).toBe('boolean');
    }), { numRuns: 500 });
    await noCrash('yaml', 500, 2000);
  });

  it('keepalived.conf: mutated corpus files and token soup (includes stay in a temp dir)', async () => {
    await noCrash('keepalived', 150, 5000);
  }, 60_000);

  it('the inputs the fuzzer found stay fixed', async () => {
    // Addresses not of the family's length: the checksum's pseudo-header threw.
    const d = decodeAdvert(Uint8Array.from([0x31, 0x5a, 0xc0, 0x04, 0x03, 0xe8, 0, 0, ...new Array<number>(16).fill(0)]),
      { family: 4, src: new Uint8Array(4), dst: new Uint8Array(9), ttl: 255 });
    expect(!d.ok && d.reason).toBe('bad-ip-header');
    // Unresolved YAML alias: toJS threw.
    const y = parseConfig('instances:\n  <<: *ai_1\n', 'f.yaml');
    expect(!y.ok && y.errors[0]!.message).toMatch(/YAML: .*alias/i);
    // keepalived: "${NAME }" then "}" (no word to join) threw; "$X=$X $X" doubled each round; a self-naming multi-line value ran for minutes.
    for (const text of ['x ${NUMg }\n', '$X=$X $X\n$X\n', '$X=$X$X \\\n$X $X\n$X\n']) {
      const a = performance.now();
      await TARGETS.keepalived.run(text);
      expect(performance.now() - a).toBeLessThan(3000);
    }
  });
});
