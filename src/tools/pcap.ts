// Classic libpcap file reader and link-layer unwrapping (Ethernet, VLAN, Linux cooked, raw IP); pure.

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const SUPPORTED_LINK_TYPES: Readonly<Record<number, string>> = {
  [LINKTYPE_ETHERNET]: 'Ethernet',
  [LINKTYPE_RAW]: 'raw IP',
  [LINKTYPE_LINUX_SLL]: 'Linux cooked (SLL)',
  [LINKTYPE_IPV4]: 'raw IPv4',
  [LINKTYPE_IPV6]: 'raw IPv6',
  [LINKTYPE_LINUX_SLL2]: 'Linux cooked v2 (SLL2)',
};

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
/** 802.1Q, 802.1ad (QinQ) and the old pre-standard QinQ tag. */
const VLAN_ETHERTYPES = new Set([0x8100, 0x88a8, 0x9100]);

const PCAPNG_MAGIC = 0x0a0d0d0a;
const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

export const PCAPNG_ERROR = 'pcapng is not supported; convert with: tcpdump -r in.pcapng -w out.pcap (or editcap -F pcap in.pcapng out.pcap)';

export interface PcapRecord {
  /** 1-based position in the file, as tcpdump and Wireshark number frames. */
  index: number;
  tsSec: number;
  /** The sub-second field as stored: microseconds, or nanoseconds when precision is 'ns'. */
  tsFrac: number;
  /** tsSec + tsFrac in seconds (a double: sub-microsecond digits of ns files are approximate). */
  timestamp: number;
  capturedLength: number;
  originalLength: number;
  data: Uint8Array;
}

export interface PcapFile {
  ok: true;
  /** The link type (low 16 bits of the header field; FCS flag bits are reported separately). */
  linkType: number;
  precision: 'us' | 'ns';
  byteOrder: 'le' | 'be';
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  /** Bytes of frame check sequence at the end of every frame (0 when the header says none). */
  fcsLength: number;
  records: PcapRecord[];
  /** Non-fatal problems, e.g. a truncated last record. */
  warnings: string[];
}

export interface PcapError {
  ok: false;
  error: string;
}

/** Parse a classic libpcap file. Never throws: a bad header is an error, a truncated record a warning. */
export function parsePcap(bytes: Uint8Array): PcapFile | PcapError {
  if (bytes.length < 4) return { ok: false, error: `not a pcap file: ${bytes.length} bytes` };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magicBe = dv.getUint32(0, false);
  if (magicBe === PCAPNG_MAGIC) return { ok: false, error: PCAPNG_ERROR };
  let le: boolean;
  let precision: 'us' | 'ns';
  switch (magicBe) {
    case 0xa1b2c3d4: le = false; precision = 'us'; break;
    case 0xd4c3b2a1: le = true; precision = 'us'; break;
    case 0xa1b23c4d: le = false; precision = 'ns'; break;
    case 0x4d3cb2a1: le = true; precision = 'ns'; break;
    default:
      return { ok: false, error: `not a pcap file: magic 0x${magicBe.toString(16).padStart(8, '0')}` };
  }
  if (bytes.length < GLOBAL_HEADER_LEN) {
    return { ok: false, error: `truncated pcap header: ${bytes.length} of ${GLOBAL_HEADER_LEN} bytes` };
  }
  const versionMajor = dv.getUint16(4, le);
  const versionMinor = dv.getUint16(6, le);
  const snaplen = dv.getUint32(16, le);
  const linkField = dv.getUint32(20, le);
  // pcap spec: bits 0-15 link type, bit 26 "FCS present", bits 28-31 FCS length in 16-bit words.
  const linkType = linkField & 0xffff;
  const fcsLength = (linkField & 0x04000000) !== 0 ? ((linkField >>> 28) & 0x0f) * 2 : 0;
  const warnings: string[] = [];
  if (versionMajor !== 2) warnings.push(`unusual pcap version ${versionMajor}.${versionMinor}`);
  const div = precision === 'ns' ? 1e9 : 1e6;
  const records: PcapRecord[] = [];
  let off = GLOBAL_HEADER_LEN;
  while (off < bytes.length) {
    const index = records.length + 1;
    if (off + RECORD_HEADER_LEN > bytes.length) {
      warnings.push(`record ${index}: truncated record header (${bytes.length - off} of ${RECORD_HEADER_LEN} bytes); stopped`);
      break;
    }
    const tsSec = dv.getUint32(off, le);
    const tsFrac = dv.getUint32(off + 4, le);
    const capturedLength = dv.getUint32(off + 8, le);
    const originalLength = dv.getUint32(off + 12, le);
    const start = off + RECORD_HEADER_LEN;
    if (capturedLength > bytes.length - start) {
      warnings.push(`record ${index}: truncated data (${bytes.length - start} of ${capturedLength} bytes); stopped`);
      break;
    }
    if (tsFrac >= div) warnings.push(`record ${index}: sub-second field ${tsFrac} out of range`);
    records.push({
      index,
      tsSec,
      tsFrac,
      timestamp: tsSec + tsFrac / div,
      capturedLength,
      originalLength,
      data: bytes.subarray(start, start + capturedLength),
    });
    off = start + capturedLength;
  }
  return {
    ok: true, linkType, precision, byteOrder: le ? 'le' : 'be', versionMajor, versionMinor, snaplen, fcsLength,
    records, warnings,
  };
}

export function isSupportedLinkType(linkType: number): boolean {
  return Object.hasOwn(SUPPORTED_LINK_TYPES, linkType);
}

/** The network-layer packet inside a frame. */
export interface FrameIp {
  ethertype: typeof ETHERTYPE_IPV4 | typeof ETHERTYPE_IPV6;
  /** The IP packet (it may carry link-layer padding or FCS after it; the IP parser cuts that). */
  ip: Uint8Array;
  /** Link-layer source address as aa:bb:cc:dd:ee:ff, when the link layer has one (Ethernet, SLL, SLL2). */
  srcMac: string | null;
  /** 802.1Q / 802.1ad VLAN IDs, outermost first. */
  vlans: number[];
}

function macText(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

function be16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

/**
 * From a link header's ethertype (at typeOff) and its payload (at payloadOff): skip VLAN tags (TCI
 * then the next ethertype) and keep IPv4 / IPv6 only.
 */
function fromEthertype(data: Uint8Array, typeOff: number, payloadOff: number, srcMac: string | null): FrameIp | null {
  const vlans: number[] = [];
  let type = be16(data, typeOff);
  let off = payloadOff;
  while (VLAN_ETHERTYPES.has(type)) {
    if (off + 4 > data.length) return null;
    vlans.push(be16(data, off) & 0x0fff);
    type = be16(data, off + 2);
    off += 4;
  }
  if (type !== ETHERTYPE_IPV4 && type !== ETHERTYPE_IPV6) return null;
  return { ethertype: type, ip: data.subarray(off), srcMac, vlans };
}

function rawIp(data: Uint8Array, want?: 4 | 6): FrameIp | null {
  if (data.length < 1) return null;
  const v = data[0]! >> 4;
  if ((v !== 4 && v !== 6) || (want !== undefined && v !== want)) return null;
  return { ethertype: v === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6, ip: data, srcMac: null, vlans: [] };
}

const ARPHRD_ETHER = 1;

/** The IPv4/IPv6 packet in a captured frame, or null (ARP, LLC, other protocols, unknown link type). */
export function frameToIp(linkType: number, data: Uint8Array): FrameIp | null {
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (data.length < 14) return null;
      return fromEthertype(data, 12, 14, macText(data.subarray(6, 12)));
    }
    case LINKTYPE_LINUX_SLL: {
      // packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
      if (data.length < 16) return null;
      const hatype = be16(data, 2);
      const alen = be16(data, 4);
      const mac = hatype === ARPHRD_ETHER && alen === 6 ? macText(data.subarray(6, 12)) : null;
      return fromEthertype(data, 14, 16, mac);
    }
    case LINKTYPE_LINUX_SLL2: {
      // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address length(1) address(8)
      if (data.length < 20) return null;
      const hatype = be16(data, 8);
      const alen = data[11]!;
      const mac = hatype === ARPHRD_ETHER && alen === 6 ? macText(data.subarray(12, 18)) : null;
      // A VLAN tag libpcap re-inserts sits after the 20-byte header, as SLL's after its 16.
      return fromEthertype(data, 0, 20, mac);
    }
    case LINKTYPE_RAW:
      return rawIp(data);
    case LINKTYPE_IPV4:
      return rawIp(data, 4);
    case LINKTYPE_IPV6:
      return rawIp(data, 6);
    default:
      return null;
  }
}
