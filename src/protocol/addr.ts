// IP address text <-> network-order bytes, canonical text form, and ordering for VRRP tie-breaks.
import { Address4, Address6 } from 'ip-address';

export type Family = 4 | 6;

/** Parse an IPv4 or IPv6 address (no prefix, no zone) to bytes; null when it is not one. */
export function addressToBytes(text: string, family?: Family): Uint8Array | null {
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

