// The real NetIO: the addon for VRRP sockets (IPv4, IPv6) and AF_PACKET, rtnetlink for addresses and links.
import type { Addr, Link, NetEvent, NetIO, PacketChannel, VrrpChannel, VrrpRx } from './ports.js';
import { addressToBytes } from '../protocol/addr.js';
import { PacketSocket } from './packet-socket.js';
import { Rtnetlink, type Addr as RtAddr, type Link as RtLink, type RtnlWatcher } from './rtnetlink.js';
import { Vrrp4Socket } from './vrrp4-socket.js';
import { Vrrp6Socket } from './vrrp6-socket.js';

const toLink = (l: RtLink): Link => ({ index: l.index, name: l.name, up: l.up, running: l.running, mac: l.mac });
const toAddr = (a: RtAddr): Addr => ({
  index: a.index, family: a.family, address: a.address, prefixLen: a.prefixLen, scope: a.scope, flags: a.flags,
  ...(a.label ? { label: a.label } : {}),
});

export async function createNetIO(): Promise<NetIO> {
  const rtnl = await Rtnetlink.open();
  const watchers: RtnlWatcher[] = [];
  return {
    openVrrp(family, ifname, ifindex, onPacket: (rx: VrrpRx) => void, onError): VrrpChannel {
      if (family === 4) {
        const s = new Vrrp4Socket({
          ifname, ifindex, onError,
          onPacket: (p) => onPacket({ family: 4, payload: p.payload, src: p.src, dst: p.dst, ttl: p.ttl, ifindex, tos: p.tos, arrivalMs: p.arrivalMs }),
        });
        return {
          send: (payload, src, dst, ipId) => s.send(payload, src, dst, ipId),
          prepare: (payload, src, dst, ipId) => s.prepare(payload, src, dst, ipId),
          flush: () => s.flush(), drain: () => s.drain(), close: () => s.close(),
          setFilter: (vrids) => s.setFilter(vrids), drops: () => s.drops(),
        };
      }
      const s = new Vrrp6Socket({
        ifname,
        onError,
        onPacket: (p) => {
          const src = p.src ? addressToBytes(p.src, 6) : null;
          const dst = p.dst ? addressToBytes(p.dst, 6) : null;
          if (!src || !dst || p.truncated) return onError(new Error(`IPv6 VRRP packet without usable addresses or truncated (src ${p.src}, dst ${p.dst})`));
          onPacket({ family: 6, payload: p.payload, src, dst, ttl: p.hopLimit, ifindex: p.ifindex >= 0 ? p.ifindex : ifindex, arrivalMs: p.arrivalMs });
        },
      });
      return {
        send: (payload, src, dst) => void s.send(payload, dst, src),
        prepare: (payload, src, dst) => {
          const go = s.prepare(payload, dst, src);
          return () => { try { go(); } catch (e) { onError(e as Error); } };
        },
        flush: () => Promise.resolve(), drain: () => s.drain(), close: () => s.close(),
        setFilter: (vrids) => s.setFilter(vrids), drops: () => s.drops(),
      };
    },
    openPacket(_ifname, ifindex): PacketChannel {
      const s = new PacketSocket(ifindex);
      return { send: (frame) => void s.send(frame), close: () => s.close() };
    },
    links: async () => (await rtnl.getLinks()).map(toLink),
    addresses: async () => (await rtnl.getAddresses()).map(toAddr),
    addAddress: (a) => rtnl.addAddress(a),
    deleteAddress: (a) => rtnl.deleteAddress(a),
    createLink: (name, kind) => rtnl.createLink(name, kind),
    setLinkUp: (index) => rtnl.setLinkUp(index),
    async watch(onEvent: (e: NetEvent) => void) {
      const w = await rtnl.watch();
      watchers.push(w);
      w.on('change', (e) => {
        if (e.type === 'link') onEvent({ type: 'link', link: e.op === 'del' ? { ...toLink(e.link), up: false, running: false } : toLink(e.link) });
        else onEvent({ type: 'addr', op: e.op, addr: toAddr(e.addr), sender: e.sender });
      });
      w.on('overrun', () => onEvent({ type: 'overrun' }));
      w.on('error', () => onEvent({ type: 'overrun' }));
      return () => {
        const i = watchers.indexOf(w);
        if (i >= 0) watchers.splice(i, 1);
        w.close();
      };
    },
    close() {
      for (const w of watchers.splice(0)) w.close();
      rtnl.close();
    },
  };
}
