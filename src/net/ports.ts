// Ports: the network as the director is written against it (sockets, addresses, links); net/netio.ts is the adapter.
export interface VrrpRx {
  family: 4 | 6;
  /** The VRRP message (IP payload). */
  payload: Uint8Array;
  src: Uint8Array;
  dst: Uint8Array;
  /** IPv4 TTL / IPv6 hop limit; -1 when the kernel did not say. */
  ttl: number;
  ifindex: number;
  /** IPv4 header facts, for debug logs. */
  tos?: number;
  /** Kernel arrival time on the daemon's monotonic clock (ms); null/absent when unknown. */
  arrivalMs?: number | null;
}

export interface VrrpChannel {
  /** Send one advert (the VRRP message); IPv4 channels build keepalived's header with this IP ID. */
  send(payload: Uint8Array, src: string, dst: string, ipId: number): void;
  /** Build the packet now, send it later with one call (a prepared timer advert). */
  prepare(payload: Uint8Array, src: string, dst: string, ipId: number): () => void;
  /** Resolves once queued sends reached the kernel (graceful stop). */
  flush(): Promise<void>;
  /** Deliver packets already queued in the kernel, synchronously (called before timers act). */
  drain?(): void;
  /** Only adverts for these VRIDs reach onPacket (a kernel socket filter); replaces the previous list. */
  setFilter?(vrids: readonly number[]): void;
  /** Packets the kernel dropped on a full receive queue since the socket opened. */
  drops?(): number;
  close(): void;
}

export interface PacketChannel {
  send(frame: Uint8Array): void;
  close(): void;
}

export interface Link {
  index: number;
  name: string;
  up: boolean;
  running: boolean;
  mac: string | null;
}

export interface Addr {
  index: number;
  family: 4 | 6;
  address: string;
  prefixLen: number;
  label?: string;
  scope: number;
  /** IFA_F_SECONDARY and friends. */
  flags: number;
}

export type NetEvent =
  | { type: 'link'; link: Link }
  /** sender: the notification's netlink port id (IPv4: the requester's, usually its pid; IPv6 and the kernel: 0). */
  | { type: 'addr'; op: 'add' | 'del'; addr: Addr; sender?: number }
  | { type: 'overrun' };

export interface NetIO {
  openVrrp(family: 4 | 6, ifname: string, ifindex: number, onPacket: (rx: VrrpRx) => void, onError: (e: Error) => void): VrrpChannel;
  openPacket(ifname: string, ifindex: number): PacketChannel;
  links(): Promise<Link[]>;
  addresses(): Promise<Addr[]>;
  /** The request must leave synchronously (before this returns), so a GARP sent next follows it. */
  addAddress(a: { ifindex: number; family: 4 | 6; address: string; prefixLen: number; label?: string; ifname?: string }): Promise<void>;
  deleteAddress(a: { ifindex: number; family: 4 | 6; address: string; prefixLen: number }): Promise<void>;
  /** A link of this kind ("dummy"), created administratively up (announce mode's lb0); absent in test doubles. */
  createLink?(name: string, kind: 'dummy'): Promise<void>;
  /** Set a link administratively up. */
  setLinkUp?(ifindex: number): Promise<void>;
  /** Event-driven link and address changes; returns an unsubscribe function. */
  watch(onEvent: (e: NetEvent) => void): Promise<() => void>;
  close(): void;
}
