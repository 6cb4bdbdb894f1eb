// IP address text <-> network-order bytes, canonical text form, and ordering for VRRP tie-breaks.
import { Address4, Address6 } from 'ip-address';

export type Family = 4 | 6;

/**
 * The canonical dotted quad (four decimal parts 0-255, no leading zero) parsed by hand: the common
 * case on the per-advert path, without ip-address's regular expressions. Anything else: null, and
 * the general parser decides (test/unit/addr-fast.test.ts proves both agree).
 */
export function dottedQuadToBytes(text: string): Uint8Array | null {
  const n = text.length;
  if (n < 7 || n > 15) return null;
  const out = new Uint8Array(4);
  let part = 0;
  let val = 0;
  let digits = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || part > 3) return null;
      out[part++] = val;
      val = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && val === 0) return null; // a leading zero
      val = val * 10 + (c - 48);
      if (++digits > 3 || val > 255) return null;
    } else {
      return null;
    }
  }
  return part === 4 ? out : null;
}

/** Parse an IPv4 or IPv6 address (no prefix, no zone) to bytes; null when it is not one. */
export function addressToBytes(text: string, family?: Family): Uint8Array | null {
  if (family !== 6) {
    const quad = dottedQuadToBytes(text);
    if (quad) return quad;
  }
  if (family !== 6 && Address4.isValid(text) && !text.includes('/')) {
    const parts = text.split('.');
    if (parts.length !== 4) return null;
    return Uint8Array.from(parts.map((p) => Number(p)));
  }
  if (family !== 4 && !text.includes('/') && !text.includes('%') && Address6.isValid(text)) {
    const raw = new Address6(text).toByteArray();
    const out = new Uint8Array(16);
    out.set(raw, 16 - raw.length);
    return out;
  }
  return null;
}

/** Canonical text of 4 or 16 address bytes (RFC 5952 form for IPv6). */
export function bytesToAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length === 16) return Address6.fromByteArray(Array.from(bytes)).correctForm();
  throw new RangeError(`an address has 4 or 16 bytes, not ${bytes.length}`);
}

/** The canonical text of an address, or null when the text is not an address. */
export function canonicalAddress(text: string, family?: Family): string | null {
  const b = addressToBytes(text, family);
  return b ? bytesToAddress(b) : null;
}

export function familyOf(text: string): Family | null {
  const b = addressToBytes(text);
  return b === null ? null : b.length === 4 ? 4 : 6;
}

/** Unsigned network-order comparison: <0, 0, >0. RFC 5798 §6.4.3 "greater primary address". */
export function compareAddressBytes(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

export function compareAddresses(a: string, b: string): number {
  const ab = addressToBytes(a);
  const bb = addressToBytes(b);
  if (!ab || !bb) throw new RangeError(`cannot compare ${a} and ${b}`);
  return compareAddressBytes(ab, bb);
}

