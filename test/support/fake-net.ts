// A NetIO double for director tests: links and addresses in memory, sent adverts and frames recorded, packets injectable.
import type { Addr, Link, NetEvent, NetIO, VrrpRx } from '../../src/net/ports.js';

export interface Sent { family: 4 | 6; payload: Uint8Array; src: string; dst: string; ipId: number; at: number; ifindex: number }

export class FakeNet implements NetIO {
  links_: Link[] = [
    { index: 2, name: 'eth0', up: true, running: true, mac: '02:00:00:00:00:02' },
    { index: 3, name: 'eth1', up: true, running: true, mac: '02:00:00:00:00:03' },
  ];
  addrs: Addr[] = [
    { index: 2, family: 4, address: '192.168.1.251', prefixLen: 24, scope: 0, flags: 0 },
    { index: 3, family: 4, address: '172.16.1.251', prefixLen: 24, scope: 0, flags: 0 },
  ];
  sent: Sent[] = [];
  frames: { ifindex: number; frame: Uint8Array }[] = [];
  ops: string[] = [];
  private rx: { ifindex: number; f: (rx: VrrpRx) => void }[] = [];
  /** Interfaces a VRRP socket is open on. */
  vrrpOn: number[] = [];
  private watchers: ((e: NetEvent) => void)[] = [];

  openVrrp(family: 4 | 6, _ifname: string, ifindex: number, onPacket: (rx: VrrpRx) => void) {
    this.rx.push({ ifindex, f: onPacket });
    this.vrrpOn.push(ifindex);
    return {
      send: (payload: Uint8Array, src: string, dst: string, ipId: number) => void this.sent.push({ family, payload, src, dst, ipId, at: performance.now(), ifindex }),
      prepare: (payload: Uint8Array, src: string, dst: string, ipId: number) => () => void this.sent.push({ family, payload, src, dst, ipId, at: performance.now(), ifindex }),
      flush: () => Promise.resolve(),
      close: () => undefined,
    };
  }
  openPacket(_ifname: string, ifindex: number) {
    return { send: (frame: Uint8Array) => void this.frames.push({ ifindex, frame }), close: () => undefined };
  }
  async links() { return this.links_.map((l) => ({ ...l })); }
  async addresses() { return this.addrs.map((a) => ({ ...a })); }
  async addAddress(a: { ifindex: number; family: 4 | 6; address: string; prefixLen: number; label?: string }) {
    if (this.addrs.some((x) => x.index === a.ifindex && x.address === a.address)) throw Object.assign(new Error('EEXIST'), { code: 'EEXIST' });
    const added: Addr = { index: a.ifindex, family: a.family, address: a.address, prefixLen: a.prefixLen, scope: 0, flags: 0, ...(a.label ? { label: a.label } : {}) };
    this.addrs.push(added);
    this.ops.push(`add ${a.address}`);
    this.notify('add', added, 0);
  }
  async deleteAddress(a: { ifindex: number; address: string }) {
    const i = this.addrs.findIndex((x) => x.index === a.ifindex && x.address === a.address);
    if (i < 0) throw Object.assign(new Error('EADDRNOTAVAIL'), { code: 'EADDRNOTAVAIL' });
    const [gone] = this.addrs.splice(i, 1);
    this.ops.push(`del ${a.address}`);
    this.notify('del', gone!, 0);
  }
  async watch(onEvent: (e: NetEvent) => void) {
    this.watchers.push(onEvent);
    return () => undefined;
  }
  close() {}

  /** Deliver a packet as if it arrived on eth1 (or `ifindex`), to the sockets open on that interface. */
  inject(rx: Omit<VrrpRx, 'ifindex'> & { ifindex?: number }) {
    const ifindex = rx.ifindex ?? 3;
    for (const h of this.rx) if (h.ifindex === ifindex) h.f({ ifindex, ...rx });
  }
  setLink(name: string, up: boolean) {
    const l = this.links_.find((x) => x.name === name)!;
    l.up = up;
    l.running = up;
    for (const w of this.watchers) w({ type: 'link', link: { ...l } });
  }
  /** The kernel's notification of an address change: on the event socket, after the request returned. */
  private notify(op: 'add' | 'del', addr: Addr, sender: number) {
    queueMicrotask(() => { for (const w of this.watchers) w({ type: 'addr', op, addr: { ...addr }, sender }); });
  }
  /** Someone else (`ip addr del`, a network manager) removes an address; sender: their netlink port id. */
  externalDelete(address: string, sender = 4242) {
    const i = this.addrs.findIndex((x) => x.address === address);
    if (i < 0) throw new Error(`${address} is not on the box`);
    const [gone] = this.addrs.splice(i, 1);
    this.ops.push(`external del ${address}`);
    this.notify('del', gone!, sender);
  }
  /** Someone else adds an address. */
  externalAdd(address: string, ifindex = 2, prefixLen = 32, sender = 4242) {
    const a: Addr = { index: ifindex, family: address.includes(':') ? 6 : 4, address, prefixLen, scope: 0, flags: 0 };
    this.addrs.push(a);
    this.ops.push(`external add ${address}`);
    this.notify('add', a, sender);
  }
  holds(address: string): boolean {
    return this.addrs.some((a) => a.address === address);
  }
}
