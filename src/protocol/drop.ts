// The closed set of reasons a received VRRP packet is dropped; the shell counts drops by these names.

export const DROP_REASONS = [
  'short-packet', //         shorter than an IP header or the VRRP fixed header
  'bad-ip-header', //        not IPv4/IPv6, bad header length, not protocol 112, fragment
  'bad-version', //          VRRP version field is neither 2 nor 3
  'version-mismatch', //     valid VRRP, but not the version this instance speaks
  'bad-type', //             type field is not 1 (ADVERTISEMENT)
  'length-mismatch', //      address count and message length disagree
  'bad-checksum', //         no accepted checksum form verifies
  'bad-ttl', //              IPv4 TTL / IPv6 hop limit is not 255 (RFC 5798 §7.1)
  'interval-out-of-range', // advert interval 0 (v2 seconds 1-255, v3 centiseconds 1-4095)
  'interval-mismatch', //    v2: interval differs from ours (RFC 3768 §7.1)
  'auth-type-mismatch', //   v2: auth type differs from ours (RFC 3768 §7.1)
  'auth-mismatch', //        v2: simple-text password differs
  'family-mismatch', //      IPv4 advert for an IPv6 instance or the reverse
  'vrid-not-configured', //  no instance for this VRID on the receiving interface
  'own-advert', //           our own advert came back (source is our primary address)
  'address-mismatch', //     VIP list differs from ours and the instance is strict about it
  'not-running', //          the instance is in INIT (not started / shut down)
  'not-path-peer', //        on an instance's extra advert path, but not from that path's peer
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

/** A fresh counter object with every reason at zero, so metrics list all of them. */
export function emptyDropCounters(): Record<DropReason, number> {
  return Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
}
