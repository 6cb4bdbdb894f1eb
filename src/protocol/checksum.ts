// Internet checksum (RFC 1071) over one or more byte ranges, as VRRP and IPv4 use it.

/** Ones'-complement sum of 16-bit big-endian words over the chunks, as if concatenated. */
export function onesComplementSum(chunks: readonly Uint8Array[]): number {
  let sum = 0;
  let odd = -1; // a dangling high byte carried to the next chunk
  for (const chunk of chunks) {
    let i = 0;
    if (odd >= 0 && chunk.length > 0) {
      sum += (odd << 8) | chunk[0]!;
      odd = -1;
      i = 1;
    }
    for (; i + 1 < chunk.length; i += 2) {
      sum += (chunk[i]! << 8) | chunk[i + 1]!;
      // Fold before the sum outgrows 31 bits, so `>>>` stays exact on inputs of any size.
      if (sum > 0x3fffffff) sum = (sum & 0xffff) + (sum >>> 16);
    }
    if (i < chunk.length) odd = chunk[i]!;
  }
  if (odd >= 0) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** RFC 1071 checksum: the ones' complement of the ones'-complement sum. */
export function internetChecksum(chunks: readonly Uint8Array[]): number {
  return ~onesComplementSum(chunks) & 0xffff;
}

/** True when the chunks, checksum field included, verify (their sum is 0xffff). */
export function checksumVerifies(chunks: readonly Uint8Array[]): boolean {
  return onesComplementSum(chunks) === 0xffff;
}
