// The hand-written dotted-quad parser agrees with the general one (ip-address) wherever it answers.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Address4 } from 'ip-address';
import { addressToBytes, dottedQuadToBytes } from '../../src/protocol/addr.js';

/** The general IPv4 path as it was before the fast path: ip-address validates, the parts are the bytes. */
function generalV4(text: string): Uint8Array | null {
  if (!Address4.isValid(text) || text.includes('/')) return null;
  const parts = text.split('.');
  return parts.length === 4 ? Uint8Array.from(parts.map(Number)) : null;
}

const part = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.stringMatching(/^[0-9]{1,4}$/), fc.constantFrom('', '-1', '+1', ' 1', '1 ', 'a', '0x1'));
const quadish = fc.array(part, { minLength: 2, maxLength: 6 }).map((p) => p.join('.'));

describe('dottedQuadToBytes', () => {
  it('parses canonical dotted quads', () => {
    expect([...dottedQuadToBytes('192.168.1.250')!]).toEqual([192, 168, 1, 250]);
    expect([...dottedQuadToBytes('0.0.0.0')!]).toEqual([0, 0, 0, 0]);
    expect([...dottedQuadToBytes('255.255.255.255')!]).toEqual([255, 255, 255, 255]);
    for (const bad of ['256.1.1.1', '01.1.1.1', '1.1.1', '1.1.1.1.1', '1..1.1', '1.1.1.1/32', '::1', '', '1.1.1.a']) expect(dottedQuadToBytes(bad)).toBeNull();
  });

  it('agrees with the general parser whenever it answers, and answers for every canonical quad', () => {
    fc.assert(fc.property(fc.oneof(quadish, fc.string(), fc.ipV4()), (text) => {
      const fast = dottedQuadToBytes(text);
      const general = generalV4(text);
      if (fast !== null) expect(general && [...general]).toEqual([...fast]);
      if (general !== null && general.join('.') === text) expect(fast && [...fast]).toEqual([...general]);
      // addressToBytes (fast path first) gives what the general path gives.
      const all = addressToBytes(text, 4);
      expect(all && [...all]).toEqual(general && [...general]);
    }), { numRuns: 20_000 });
  });
});
