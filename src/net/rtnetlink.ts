// rtnetlink: list links and addresses, add/remove addresses (VIPs), create dummy links, watch link/address changes by multicast.
import { EventEmitter } from 'node:events';
import { addressToBytes, bytesToAddress, type Family } from '../protocol/addr.js';
import {
  attrMap, decodeAttrs, encodeAttrs, nlaBytes, nlaNest, nlaStr, nlaU32, readStr, readU32, readU8, HOST_LE, type NlAttrIn,
  type NlMsg, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST,
} from './nlmsg.js';
import { NETLINK_ROUTE, NetlinkError, NetlinkSocket, type NetlinkOptions } from './netlink.js';

// linux/rtnetlink.h: message types.
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
// linux/rtnetlink.h: enum rtnetlink_groups (joined with NETLINK_ADD_MEMBERSHIP; RTMGRP_* are 1 << (n - 1)).
export const RTNLGRP_LINK = 1;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV6_IFADDR = 9;

const TYPE_NAMES: Record<number, string> = {
  [RTM_NEWLINK]: 'RTM_NEWLINK', [RTM_DELLINK]: 'RTM_DELLINK', [RTM_GETLINK]: 'RTM_GETLINK',
  [RTM_NEWADDR]: 'RTM_NEWADDR', [RTM_DELADDR]: 'RTM_DELADDR', [RTM_GETADDR]: 'RTM_GETADDR',
};
export const rtmName = (type: number): string => TYPE_NAMES[type] ?? `RTM type ${type}`;

// linux/socket.h
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
// linux/if_link.h: IFLA_* attributes of RTM_*LINK.
export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKINFO = 18;
// linux/if_link.h: IFLA_INFO_* inside IFLA_LINKINFO.
export const IFLA_INFO_KIND = 1;
// linux/if.h: net_device_flags.
export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;
export const IFF_LOWER_UP = 0x10000;
// linux/if.h: RFC 2863 operational status (IF_OPER_*).
export const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;
export type OperState = (typeof OPERSTATES)[number];
// linux/if_addr.h: IFA_* attributes of RTM_*ADDR, IFA_F_* flags.
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_FLAGS = 8;
export const IFA_F_SECONDARY = 0x01;
export const IFA_F_NODAD = 0x02;
export const IFA_F_DADFAILED = 0x08;
export const IFA_F_TENTATIVE = 0x40;
export const IFA_F_PERMANENT = 0x80;
// linux/rtnetlink.h: enum rt_scope_t.
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;

export interface Link {
  index: number;
  name: string;
  /** IFF_UP: administratively up. */
  up: boolean;
  /** IFF_RUNNING or IFF_LOWER_UP: carrier. */
  running: boolean;
  operstate: OperState;
  /** IFLA_ADDRESS as aa:bb:cc:dd:ee:ff; null for links without one. */
  mac: string | null;
  mtu: number;
  /** Raw ifi_flags. */
  flags: number;
}

export interface Addr {
  index: number;
  family: Family;
  address: string;
  prefixLen: number;
  /** IFA_LABEL (IPv4 only), e.g. "eth0:vip"; null when absent. */
  label: string | null;
  scope: number;
  /** IFA_FLAGS (32 bits) when present, else ifa_flags. */
  flags: number;
}

export interface AddrSpec {
  ifindex: number;
  address: string;
  prefixLen: number;
  /** IPv4 only; must start with the interface name (e.g. "eth0:vip"), at most 15 bytes. */
  label?: string;
  /** Inferred from the address when absent. */
  family?: Family;
  /** RT_SCOPE_*; default universe. */
  scope?: number;
  /** The interface's name, when the caller knows it (saves a lookup before a labelled add). */
  ifname?: string;
}

export type RtnlEvent =
  | { type: 'link'; op: 'add' | 'del'; link: Link }
  /**
   * sender: nlmsg_pid of the notification. For IPv4 the kernel puts the requesting socket's netlink
   * port id there (iproute2's is its pid); for IPv6, and for changes the kernel makes itself, 0.
   */
  | { type: 'addr'; op: 'add' | 'del'; addr: Addr; sender: number };

const afOf = (f: Family): number => (f === 4 ? AF_INET : AF_INET6);
const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** linux/rtnetlink.h: struct ifinfomsg { u8 family; u8 pad; u16 type; s32 index; u32 flags; u32 change; } */
export function encodeIfinfomsg(family = AF_UNSPEC, index = 0, flags = 0, change = 0): Uint8Array {
  const b = new Uint8Array(16);
  const v = dv(b);
  v.setUint8(0, family);
  v.setInt32(4, index, HOST_LE);
  v.setUint32(8, flags, HOST_LE);
  v.setUint32(12, change, HOST_LE);
  return b;
}

/** linux/if_addr.h: struct ifaddrmsg { u8 family; u8 prefixlen; u8 flags; u8 scope; u32 index; } */
export function encodeIfaddrmsg(family: number, prefixLen: number, flags: number, scope: number, index: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = dv(b);
  b.set([family, prefixLen, flags & 0xff, scope]);
  v.setUint32(4, index, HOST_LE);
  return b;
}

const macText = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');

/** A link from an RTM_NEWLINK/RTM_DELLINK payload; null when malformed. */
export function parseLink(payload: Uint8Array): Link | null {
  if (payload.length < 16) return null;
  const v = dv(payload);
  const attrs = decodeAttrs(payload.subarray(16));
  if (!attrs.ok) return null;
  const a = attrMap(attrs.value);
  const name = a.get(IFLA_IFNAME);
  if (!name) return null;
  const flags = v.getUint32(8, HOST_LE);
  const mac = a.get(IFLA_ADDRESS)?.value;
  const oper = a.get(IFLA_OPERSTATE) ? readU8(a.get(IFLA_OPERSTATE)!.value) : 0;
  return {
    index: v.getInt32(4, HOST_LE), name: readStr(name.value), up: (flags & IFF_UP) !== 0,
    running: (flags & (IFF_RUNNING | IFF_LOWER_UP)) !== 0, operstate: OPERSTATES[oper ?? 0] ?? 'unknown',
    mac: mac && mac.length > 0 ? macText(mac) : null, mtu: a.get(IFLA_MTU) ? readU32(a.get(IFLA_MTU)!.value) ?? 0 : 0, flags,
  };
}

/** An address from an RTM_NEWADDR/RTM_DELADDR payload; null when malformed or not IPv4/IPv6. */
export function parseAddr(payload: Uint8Array): Addr | null {
  if (payload.length < 8) return null;
  const [af, prefixLen, ifaFlags, scope] = [payload[0]!, payload[1]!, payload[2]!, payload[3]!];
  if (af !== AF_INET && af !== AF_INET6) return null;
  const attrs = decodeAttrs(payload.subarray(8));
  if (!attrs.ok) return null;
  const a = attrMap(attrs.value);
  // IPv4: IFA_LOCAL is the address, IFA_ADDRESS the peer on point-to-point links. IPv6: IFA_ADDRESS.
  const raw = (af === AF_INET ? a.get(IFA_LOCAL) : undefined) ?? a.get(IFA_ADDRESS);
  const len = af === AF_INET ? 4 : 16;
  if (!raw || raw.value.length !== len) return null;
  const label = a.get(IFA_LABEL);
  const flags32 = a.get(IFA_FLAGS);
  return {
    index: dv(payload).getUint32(4, HOST_LE), family: af === AF_INET ? 4 : 6, address: bytesToAddress(raw.value),
    prefixLen, label: label ? readStr(label.value) : null, scope,
    flags: (flags32 && readU32(flags32.value)) ?? ifaFlags,
  };
}

/** The RTM_NEWADDR/RTM_DELADDR payload for an address (ifaddrmsg and attributes). Throws RangeError on bad input. */
export function addrPayload(spec: AddrSpec): Uint8Array {
  const bytes = addressToBytes(spec.address, spec.family);
  if (!bytes) throw new RangeError(`not an IP${spec.family ? `v${spec.family}` : ''} address: ${spec.address}`);
  const family: Family = bytes.length === 4 ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  if (!Number.isInteger(spec.prefixLen) || spec.prefixLen < 0 || spec.prefixLen > max) {
    throw new RangeError(`prefix length ${spec.prefixLen} out of 0..${max}`);
  }
  if (!Number.isInteger(spec.ifindex) || spec.ifindex <= 0) throw new RangeError(`bad ifindex ${spec.ifindex}`);
  // IPv6: no DAD, so the VIP is usable at once (no "tentative" period refusing bind/send).
  const flags = family === 6 ? IFA_F_NODAD : 0;
  const attrs: NlAttrIn[] = family === 4 ? [nlaBytes(IFA_LOCAL, bytes), nlaBytes(IFA_ADDRESS, bytes)] : [nlaBytes(IFA_ADDRESS, bytes)];
  if (spec.label !== undefined) {
    if (family !== 4) throw new RangeError('address labels exist for IPv4 only');
    if (new TextEncoder().encode(spec.label).length > 15) throw new RangeError(`label "${spec.label}" is over 15 bytes (IFNAMSIZ)`);
    attrs.push(nlaStr(IFA_LABEL, spec.label));
  }
  if (flags) attrs.push(nlaU32(IFA_FLAGS, flags));
  return Uint8Array.from([
    ...encodeIfaddrmsg(afOf(family), spec.prefixLen, flags, spec.scope ?? RT_SCOPE_UNIVERSE, spec.ifindex),
    ...encodeAttrs(attrs),
  ]);
}

/** A multicast notification as an event; null for other messages. */
export function parseEvent(msg: NlMsg): RtnlEvent | null {
  if (msg.type === RTM_NEWLINK || msg.type === RTM_DELLINK) {
    const link = parseLink(msg.payload);
    return link && { type: 'link', op: msg.type === RTM_NEWLINK ? 'add' : 'del', link };
  }
  if (msg.type === RTM_NEWADDR || msg.type === RTM_DELADDR) {
    const addr = parseAddr(msg.payload);
    return addr && { type: 'addr', op: msg.type === RTM_NEWADDR ? 'add' : 'del', addr, sender: msg.pid };
  }
  return null;
}

interface WatcherEvents {
  change: [RtnlEvent];
  /** Notifications were lost: list links and addresses again to resync. */
  overrun: [];
  error: [Error];
}

/** Link and address notifications from RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR. */
export class RtnlWatcher extends EventEmitter<WatcherEvents> {
  constructor(private readonly sock: NetlinkSocket) {
    super();
    sock.onEvent((m) => {
      const e = parseEvent(m);
      if (e) this.emit('change', e);
    });
    sock.on('overrun', () => this.emit('overrun'));
    sock.on('error', (e) => {
      if (this.listenerCount('error') > 0) this.emit('error', e);
    });
  }

  close(): void {
    this.sock.close();
  }
}

/** Route netlink: one request socket; watch() opens a separate event socket so notifications never delay replies. */
export class Rtnetlink {
  private constructor(private readonly sock: NetlinkSocket, private readonly options: NetlinkOptions) {}

  static async open(options: NetlinkOptions = {}): Promise<Rtnetlink> {
    const sock = await NetlinkSocket.open(NETLINK_ROUTE, [], { ...options, groups: [], typeName: rtmName });
    return new Rtnetlink(sock, options);
  }

  /** RTM_GETLINK dump. */
  async getLinks(): Promise<Link[]> {
    const msgs = await this.sock.request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, encodeIfinfomsg());
    return msgs.filter((m) => m.type === RTM_NEWLINK).map((m) => parseLink(m.payload)).filter((l): l is Link => l !== null);
  }

  /** RTM_GETLINK of one link by index (rejects with code 'ENODEV' when there is none). */
  async getLink(index: number): Promise<Link> {
    const msgs = await this.sock.request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, encodeIfinfomsg(AF_UNSPEC, index));
    const link = msgs.filter((m) => m.type === RTM_NEWLINK).map((m) => parseLink(m.payload)).find((l) => l !== null);
    if (!link) throw new NetlinkError(-71, 'RTM_GETLINK', `no link in the reply for ifindex ${index}`);
    return link;
  }

  /**
   * RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL: a link of this kind (IFLA_LINKINFO/IFLA_INFO_KIND, e.g. "dummy"), created
   * administratively up; rejects with 'EEXIST' when the name is taken, 'EOPNOTSUPP' when the kind's module is missing.
   */
  async createLink(name: string, kind: string): Promise<void> {
    const attrs = encodeAttrs([nlaStr(IFLA_IFNAME, name), nlaNest(IFLA_LINKINFO, [nlaStr(IFLA_INFO_KIND, kind)])]);
    await this.sock.request(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
      Uint8Array.from([...encodeIfinfomsg(AF_UNSPEC, 0, IFF_UP, IFF_UP), ...attrs]));
  }

  /** RTM_NEWLINK on an existing link: administratively up (IFF_UP in ifi_change and ifi_flags). */
  async setLinkUp(index: number): Promise<void> {
    await this.sock.request(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, encodeIfinfomsg(AF_UNSPEC, index, IFF_UP, IFF_UP));
  }

  /** RTM_GETADDR dump, all families or one. */
  async getAddresses(family?: Family): Promise<Addr[]> {
    const msgs = await this.sock.request(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP,
      encodeIfaddrmsg(family ? afOf(family) : AF_UNSPEC, 0, 0, 0, 0));
    return msgs.filter((m) => m.type === RTM_NEWADDR).map((m) => parseAddr(m.payload))
      .filter((a): a is Addr => a !== null && (family === undefined || a.family === family));
  }

  /**
   * RTM_NEWADDR with NLM_F_CREATE|NLM_F_EXCL: rejects with code 'EEXIST' when the address is already there.
   * A label must start with the interface's name (as iproute2 insists; the kernel itself accepts any): 'EINVAL'.
   */
  async addAddress(spec: AddrSpec): Promise<void> {
    const payload = addrPayload(spec);
    if (spec.label !== undefined) {
      // With the interface name given, the check costs no round trip and the request leaves now.
      const name = spec.ifname ?? (await this.getLink(spec.ifindex)).name;
      if (!spec.label.startsWith(name)) {
        throw new NetlinkError(-22, 'RTM_NEWADDR', `label "${spec.label}" must start with the interface name "${name}"`);
      }
    }
    await this.sock.request(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, payload);
  }

  /** RTM_DELADDR of the same identity (address, prefix, ifindex, and label when given): 'EADDRNOTAVAIL' when absent. */
  async deleteAddress(spec: AddrSpec): Promise<void> {
    await this.sock.request(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, addrPayload(spec));
  }

  /** Start watching link and address changes (event-driven, no polling). Close the watcher when done. */
  async watch(options: NetlinkOptions = {}): Promise<RtnlWatcher> {
    const sock = await NetlinkSocket.open(NETLINK_ROUTE, [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR],
      { ...this.options, ...options, typeName: rtmName });
    return new RtnlWatcher(sock);
  }

  close(): void {
    this.sock.close();
  }
}
