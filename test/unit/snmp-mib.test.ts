// The VRRPv3-MIB mapping (src/daemon/snmp-mib.ts): status → rows, index encoding, counters, histories, GET/GETNEXT, notifications.
import { describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/daemon/status.js';
import {
  compareOids, emptyHistory, getVar, historyAfterDrop, historyAfterTransition, mibRows, mibVars, newMasterNotification, newMasterReason,
  nextVar, protoErrorNotification, protoErrReason, PROTO_ERROR_REPEAT_MS, type MibVar, type RowHistory,
} from '../../src/daemon/snmp-mib.js';
import { answer, frameLength, parseRequest } from '../../src/daemon/agentx.js';

type Inst = StatusReport['instances'][number];
const MIB = '1.3.6.1.2.1.207';
const OPS = `${MIB}.1.1.1.1`;
const ASSOC = `${MIB}.1.1.2.1`;
const STATS = `${MIB}.1.2.5.1`;

function inst(o: Partial<Inst> = {}): Inst {
  return {
    name: 'vi_100', vrid: 100, version: 2, interface: 'eth1', ifindex: 3, state: 'BACKUP', priority: 90, effectivePriority: 90,
    master: '172.16.1.251', masterPriority: 100, primaryAddress: '172.16.1.252', vips: [],
    configuredVips: [{ address: '192.168.1.250/32', dev: 'eth0' }, { address: '192.168.1.100/32', dev: 'eth0' }],
    since: '2026-01-01T00:00:00.000Z', reason: 'startup', reasonDetail: '', held: false, faults: [], advertIntervalMs: 1000, masterAdverIntervalMs: 1000,
    counters: {
      advertsSent: 0, advertsReceived: 40, priorityZeroSent: 0, priorityZeroReceived: 2, becameMaster: 1, releasedMaster: 1, addressMismatches: 3,
      vipRestores: 0, vipRemovals: 0, drops: { 'interval-mismatch': 4, 'version-mismatch': 1 }, garpSent: 0,
      rxErrors: { 'bad-ttl': 5, 'bad-type': 6, 'short-packet': 1, 'length-mismatch': 2, 'bad-checksum': 7 },
    },
    ...o,
  };
}

function status(instances: Inst[], drops: StatusReport['daemon']['drops'] = {}): StatusReport {
  return { daemon: { pid: 1, startedAt: '2026-01-01T00:00:00.000Z', drops }, instances };
}

const byOid = (vars: MibVar[]) => new Map(vars.map((v) => [v.oid.join('.'), v.value]));
const settings = { vi_100: { preempt: false }, vi_6: { preempt: true } };

describe('status → VRRPv3-MIB rows', () => {
  const st = status([inst()], { 'bad-checksum': 9, 'bad-version': 2, 'vrid-not-configured': 11 });
  const h: RowHistory = { ...emptyHistory(), upSince: 1000, newMasterReason: 3, protoErrReason: 1, started: true };
  const vars = mibVars(mibRows(st, settings), new Map([['vi_100', h]]), st, 6000, 100);
  const v = byOid(vars);
  const idx = '3.100.1'; // ifIndex, VRID, ipv4(1)

  it('operations table: index ifIndex.VRID.type; state, priority, addresses, interval in centiseconds, modes, uptime', () => {
    expect(v.get(`${OPS}.3.${idx}`)).toEqual(new Uint8Array([172, 16, 1, 251])); // the master heard
    expect(v.get(`${OPS}.4.${idx}`)).toEqual(new Uint8Array([172, 16, 1, 252])); // our primary
    expect(v.get(`${OPS}.6.${idx}`)).toBe(2); // backup
    expect(v.get(`${OPS}.7.${idx}`)).toBe(90);
    expect(v.get(`${OPS}.8.${idx}`)).toBe(2);
    expect(v.get(`${OPS}.9.${idx}`)).toBe(100);
    expect(v.get(`${OPS}.10.${idx}`)).toBe(2); // preempt false
    expect(v.get(`${OPS}.11.${idx}`)).toBe(1);
    expect(v.get(`${OPS}.12.${idx}`)).toBe(500); // 5 s since it left initialize, in ticks
    expect(v.get(`${OPS}.13.${idx}`)).toBe(1);
    // index columns and the virtual MAC (vrrpd uses none) are not served
    for (const col of [1, 2, 5]) expect([...v.keys()].some((k) => k.startsWith(`${OPS}.${col}.`))).toBe(false);
  });

  it('associated addresses: one row each, the address length-prefixed in the index, sorted', () => {
    expect([...v.keys()].filter((k) => k.startsWith(ASSOC))).toEqual([`${ASSOC}.2.${idx}.4.192.168.1.100`, `${ASSOC}.2.${idx}.4.192.168.1.250`]);
  });

  it('statistics: the engine counters plus the decoder drops charged to the instance', () => {
    expect(v.get(`${STATS}.1.${idx}`)).toBe(1);
    expect(v.get(`${STATS}.2.${idx}`)).toBe(3);
    expect(v.get(`${STATS}.3.${idx}`)).toBe(40n + 5n + 21n); // valid + dropped by the engine + charged by the decoder
    expect(v.get(`${STATS}.4.${idx}`)).toBe(4n);
    expect(v.get(`${STATS}.5.${idx}`)).toBe(5n);
    expect(v.get(`${STATS}.6.${idx}`)).toBe(1);
    expect(v.get(`${STATS}.7.${idx}`)).toBe(2n);
    expect(v.get(`${STATS}.8.${idx}`)).toBe(0n);
    expect(v.get(`${STATS}.9.${idx}`)).toBe(6n);
    expect(v.get(`${STATS}.10.${idx}`)).toBe(3n);
    expect(v.get(`${STATS}.11.${idx}`)).toBe(3n);
    expect(v.get(`${STATS}.12.${idx}`)).toBe(0);
    expect(v.get(`${STATS}.13.${idx}`)).toBe(100);
  });

  it('router statistics: the daemon drops plus the instances\'', () => {
    expect(v.get(`${MIB}.1.2.1.0`)).toBe(9n);
    expect(v.get(`${MIB}.1.2.2.0`)).toBe(3n); // bad-version 2 + version-mismatch 1
    expect(v.get(`${MIB}.1.2.3.0`)).toBe(11n);
    expect(v.get(`${MIB}.1.2.4.0`)).toBe(0);
  });

  it('sorted by OID, every OID once', () => {
    const oids = vars.map((x) => x.oid);
    expect([...oids].sort(compareOids)).toEqual(oids);
    expect(new Set(oids.map((o) => o.join('.'))).size).toBe(oids.length);
  });

  it('MASTER: its own address as master; FAULT and INIT read as initialize with zero uptime; IPv6 rows have type 2 and 16-byte addresses', () => {
    const s2 = status([
      inst({ state: 'MASTER', master: '172.16.1.252' }),
      inst({ name: 'vi_6', ifindex: 4, vrid: 6, state: 'FAULT', primaryAddress: 'fe80::1', master: null,
        configuredVips: [{ address: '2001:db8::1/128', dev: 'eth0' }, { address: '192.168.1.9/32', dev: 'eth0' }] }),
    ]);
    const rows = mibRows(s2, settings);
    expect(rows.map((r) => r.index)).toEqual([[3, 100, 1], [4, 6, 2]]);
    const w = byOid(mibVars(rows, new Map(), s2, 1000, 100));
    expect(w.get(`${OPS}.3.3.100.1`)).toEqual(new Uint8Array([172, 16, 1, 252]));
    expect(w.get(`${OPS}.6.4.6.2`)).toBe(1);
    expect(w.get(`${OPS}.12.4.6.2`)).toBe(0);
    expect(w.get(`${OPS}.3.4.6.2`)).toEqual(new Uint8Array(16));
    expect(w.get(`${OPS}.8.4.6.2`)).toBe(1); // the IPv4 VIP is not an associated address of an IPv6 row
    expect([...w.keys()].filter((k) => k.startsWith(`${ASSOC}.2.4.6.2.`))).toEqual([`${ASSOC}.2.4.6.2.16.32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.1`]);
  });

  it('counters wrap as Counter32 and TimeTicks do', () => {
    const s3 = status([inst({ counters: { ...inst().counters, becameMaster: 2 ** 32 + 5 } })]);
    expect(byOid(mibVars(mibRows(s3, settings), new Map(), s3, 0, 100)).get(`${STATS}.1.3.100.1`)).toBe(5);
  });

  it('an instance without an interface index (an older status) is left out', () => {
    expect(mibRows(status([inst({ ifindex: undefined })]), settings)).toEqual([]);
  });
});

describe('row histories', () => {
  it('uptime runs from leaving INIT or FAULT, stops in them; a second start is a counter discontinuity', () => {
    let h = historyAfterTransition(emptyHistory(), 'INIT', 'BACKUP', 'startup', 100);
    expect(h).toMatchObject({ upSince: 100, discontinuityAt: 0, started: true });
    h = historyAfterTransition(h, 'BACKUP', 'MASTER', 'master-silent', 500);
    expect(h).toMatchObject({ upSince: 100, newMasterReason: 3 });
    h = historyAfterTransition(h, 'MASTER', 'FAULT', 'fault', 900);
    expect(h.upSince).toBeNull();
    h = historyAfterTransition(h, 'FAULT', 'BACKUP', 'fault-cleared', 1200);
    expect(h.upSince).toBe(1200);
    h = historyAfterTransition(h, 'BACKUP', 'INIT', 'shutdown', 1300);
    h = historyAfterTransition(h, 'INIT', 'MASTER', 'owner', 1400);
    expect(h).toMatchObject({ upSince: 1400, discontinuityAt: 1400, newMasterReason: 1 });
  });

  it('newMasterReason: owner → priority, preempt → preempted, the master gone → masterNoResponse', () => {
    expect(newMasterReason('owner')).toBe(1);
    expect(newMasterReason('preempt')).toBe(2);
    for (const r of ['no-master', 'master-silent', 'master-resigned', 'initial-state', 'yield-reclaim'] as const) expect(newMasterReason(r)).toBe(3);
  });

  it('protocol errors: the MIB\'s four reasons; a new reason notifies at once, a repeat once a minute', () => {
    expect(protoErrReason('bad-ttl')).toBe(1);
    expect(protoErrReason('bad-version')).toBe(2);
    expect(protoErrReason('version-mismatch')).toBe(2);
    expect(protoErrReason('bad-checksum')).toBe(3);
    expect(protoErrReason('vrid-not-configured')).toBe(4);
    expect(protoErrReason('auth-mismatch')).toBeNull();
    let r = historyAfterDrop(emptyHistory(), 'bad-ttl', 0);
    expect([r.history.protoErrReason, r.notify]).toEqual([1, true]);
    r = historyAfterDrop(r.history, 'bad-ttl', 1000);
    expect(r.notify).toBe(false);
    r = historyAfterDrop(r.history, 'bad-checksum', 2000);
    expect([r.history.protoErrReason, r.notify]).toEqual([3, true]);
    expect(historyAfterDrop(r.history, 'bad-checksum', 2000 + PROTO_ERROR_REPEAT_MS).notify).toBe(true);
    expect(historyAfterDrop(r.history, 'own-advert', 5000)).toEqual({ history: r.history, notify: false });
  });
});

describe('GET / GETNEXT over the view', () => {
  const st = status([inst()]);
  const vars = mibVars(mibRows(st, settings), new Map(), st, 0, 100);
  const oid = (s: string) => s.split('.').map(Number);

  it('GET: the value, noSuchInstance below a served object, noSuchObject elsewhere', () => {
    expect(getVar(vars, oid(`${OPS}.6.3.100.1`))).toMatchObject({ type: 'Integer', value: 2 });
    expect(getVar(vars, oid(`${OPS}.6.3.101.1`))).toBe('noSuchInstance');
    expect(getVar(vars, oid(`${OPS}.5.3.100.1`))).toBe('noSuchObject');
    expect(getVar(vars, oid(`${MIB}.1`))).toBe('noSuchObject');
  });

  it('GETNEXT: strictly after the start, at it with include, endOfMibView at the range end or past the last', () => {
    expect(nextVar(vars, oid(`${MIB}.1`), false, [])?.oid.join('.')).toBe(`${OPS}.3.3.100.1`);
    expect(nextVar(vars, oid(`${OPS}.3.3.100.1`), false, [])?.oid.join('.')).toBe(`${OPS}.4.3.100.1`);
    expect(nextVar(vars, oid(`${OPS}.3.3.100.1`), true, [])?.oid.join('.')).toBe(`${OPS}.3.3.100.1`);
    expect(nextVar(vars, oid(`${MIB}.1`), false, oid(`${OPS}.3.3.100.1`))).toBeNull();
    expect(nextVar(vars, vars.at(-1)!.oid, false, [])).toBeNull();
  });
});

describe('AgentX framing and requests', () => {
  /** A GetNext PDU in network byte order with one search range. */
  function getNext(start: number[], end: number[], include = 0): Buffer {
    const enc = (o: number[], inc = 0) => {
      if (!o.length) return Buffer.alloc(4); // the null OID
      const b = Buffer.alloc(4 + 4 * (o.length - 5));
      b.writeUInt8(o.length - 5, 0); b.writeUInt8(o[4]!, 1); b.writeUInt8(inc, 2);
      o.slice(5).forEach((x, i) => b.writeUInt32BE(x, 4 + 4 * i));
      return b;
    };
    const payload = Buffer.concat([enc(start, include), enc(end)]);
    const h = Buffer.alloc(20);
    h.writeUInt8(1, 0); h.writeUInt8(6, 1); h.writeUInt8(0x10, 2);
    h.writeUInt32BE(7, 4); h.writeUInt32BE(8, 8); h.writeUInt32BE(9, 12); h.writeUInt32BE(payload.length, 16);
    return Buffer.concat([h, payload]);
  }

  it('cuts whole PDUs from the stream: incomplete → 0, garbage → -1', () => {
    const pdu = getNext(oid(`${MIB}.1`), oid(`${MIB}.2`));
    expect(frameLength(pdu)).toBe(pdu.length);
    expect(frameLength(Buffer.concat([pdu, pdu]))).toBe(pdu.length);
    expect(frameLength(pdu.subarray(0, pdu.length - 1))).toBe(0);
    expect(frameLength(Buffer.alloc(20, 0xff))).toBe(-1);
  });

  it('reads the session ids and the search range with its include flag, and answers from the view', () => {
    const req = parseRequest(getNext(oid(`${OPS}.3.3.100.1`), oid(`${MIB}.2`), 1));
    expect(req).toMatchObject({ sessionID: 7, transactionID: 8, packetID: 9, ranges: [{ start: oid(`${OPS}.3.3.100.1`), include: true, end: oid(`${MIB}.2`) }] });
    const st = status([inst()]);
    const view = mibVars(mibRows(st, settings), new Map(), st, 0, 100);
    expect(answer(req, view)[0]).toMatchObject({ oid: `${OPS}.3.3.100.1`, value: new Uint8Array([172, 16, 1, 251]) });
    const last = parseRequest(getNext(view.at(-1)!.oid as number[], []));
    expect(answer(last, view)[0]).toMatchObject({ oid: view.at(-1)!.oid.join('.'), type: 130, value: null }); // endOfMibView
  });
});

function oid(s: string): number[] { return s.split('.').map(Number); }

describe('notifications', () => {
  it('vrrpv3NewMaster carries the master address and the reason; vrrpv3ProtoError the reason', () => {
    const st = status([inst({ state: 'MASTER' })]);
    const [row] = mibRows(st, settings);
    const h = { ...emptyHistory(), newMasterReason: 2, protoErrReason: 3 };
    const n = newMasterNotification(row!, h);
    expect(n.trap.join('.')).toBe(`${MIB}.0.1`);
    expect(n.varbinds.map((x) => [x.oid.join('.'), x.value])).toEqual([[`${OPS}.3.3.100.1`, new Uint8Array([172, 16, 1, 252])], [`${STATS}.2.3.100.1`, 2]]);
    const p = protoErrorNotification(row!, h);
    expect(p.trap.join('.')).toBe(`${MIB}.0.2`);
    expect(p.varbinds.map((x) => [x.oid.join('.'), x.value])).toEqual([[`${STATS}.6.3.100.1`, 3]]);
  });
});
