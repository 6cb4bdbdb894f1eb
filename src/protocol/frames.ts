// Gratuitous ARP and unsolicited Neighbor Advertisement frames, laid out exactly as keepalived sends them.
import { internetChecksum } from './checksum.js';
import { addressToBytes } from './addr.js';

export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const ALL_NODES_MAC = new Uint8Array([0x33, 0x33, 0, 0, 0, 1]); // RFC 2464 §7 for ff02::1
const ALL_NODES = addressToBytes('ff02::1')!;

export function macToBytes(mac: string): Uint8Array | null {
  const parts = mac.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{1,2}$/.test(p))) return null;
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

function mustMac(mac: string): Uint8Array {
  const m = macToBytes(mac);
  if (!m) throw new RangeError(`not a MAC address: ${mac}`);
  return m;
}

function must(addr: string, family: 4 | 6): Uint8Array {
  const b = addressToBytes(addr, family);
  if (!b) throw new RangeError(`not an IPv${family} address: ${addr}`);
  return b;
}

/**
 * Gratuitous ARP for a VIP (RFC 5798 §8.1.2 / RFC 5227 §3): an ARP *request* broadcast from the
 * interface's MAC with sender IP = target IP = VIP and target MAC ff:ff:ff:ff:ff:ff (keepalived's
 * choice; Linux neighbours update from it whatever arp_accept says, as the entry exists).
 */
export function gratuitousArp(srcMac: string, vip: string): Uint8Array {
  const mac = mustMac(srcMac);
  const ip = must(vip, 4);
  const f = new Uint8Array(42);
  const dv = new DataView(f.buffer);
  f.set(BROADCAST, 0);
  f.set(mac, 6);
  dv.setUint16(12, ETH_P_ARP);
  dv.setUint16(14, 1); // htype Ethernet
  dv.setUint16(16, 0x0800); // ptype IPv4
  f[18] = 6;
  f[19] = 4;
  dv.setUint16(20, 1); // ARPOP_REQUEST
  f.set(mac, 22);
  f.set(ip, 28);
  f.set(BROADCAST, 32);
  f.set(ip, 38);
  return f;
}

/**
 * Unsolicited Neighbor Advertisement for an IPv6 VIP (RFC 4861 §7.2.6): from the VIP to ff02::1,
 * hop limit 255, Solicited clear, Override set, with the Target Link-Layer Address option, and the
 * Router flag set: RFC 5798 §6.4.2 asks for R on every VIP's NA (the virtual router is a router;
 * a client using the VIP as its gateway keeps it as one). keepalived sets R only when the host's
 * IPv6 forwarding is on; with forwarding on its frames equal ours byte for byte.
 */
export function unsolicitedNa(srcMac: string, vip: string): Uint8Array {
  const mac = mustMac(srcMac);
  const ip = must(vip, 6);
  const icmpLen = 32;
  const f = new Uint8Array(14 + 40 + icmpLen);
  const dv = new DataView(f.buffer);
  f.set(ALL_NODES_MAC, 0);
  f.set(mac, 6);
  dv.setUint16(12, ETH_P_IPV6);
  const ip6 = 14;
  f[ip6] = 0x60;
  dv.setUint16(ip6 + 4, icmpLen);
  f[ip6 + 6] = 58; // ICMPv6
  f[ip6 + 7] = 255; // RFC 4861 §7.1.2: hop limit 255
  f.set(ip, ip6 + 8);
  f.set(ALL_NODES, ip6 + 24);
  const icmp = ip6 + 40;
  f[icmp] = 136; // Neighbor Advertisement
  f[icmp + 4] = 0x80 | 0x20; // R=1, S=0, O=1 (RFC 5798 §6.4.2)
  f.set(ip, icmp + 8);
  f[icmp + 24] = 2; // Target Link-Layer Address
  f[icmp + 25] = 1; // length in units of 8 bytes
  f.set(mac, icmp + 26);
  const pseudo = new Uint8Array(40);
  pseudo.set(ip, 0);
  pseudo.set(ALL_NODES, 16);
  new DataView(pseudo.buffer).setUint32(32, icmpLen);
  pseudo[39] = 58;
  dv.setUint16(icmp + 2, internetChecksum([pseudo, f.subarray(icmp)]));
  return f;
}
