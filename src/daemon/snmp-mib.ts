// The VRRPv3-MIB (RFC 6527) as data: vrrpd's status → sorted OID/value rows, GET/GETNEXT over them, notifications (pure).
import type { TransitionReason, VrrpState } from '../engine/types.js';
import type { DropReason } from '../protocol/drop.js';
import { addressToBytes } from '../protocol/addr.js';
import type { StatusReport } from './status.js';

/** mib-2 207 and its parts (RFC 6527 §6). */
export const VRRPV3_MIB = [1, 3, 6, 1, 2, 1, 207];
export const VRRPV3_OBJECTS = [...VRRPV3_MIB, 1];
const OPERATIONS_ENTRY = [...VRRPV3_MIB, 1, 1, 1, 1];
const ASSOCIATED_ENTRY = [...VRRPV3_MIB, 1, 1, 2, 1];
const ROUTER_STATISTICS = [...VRRPV3_MIB, 1, 2];
const STATISTICS_ENTRY = [...ROUTER_STATISTICS, 5, 1];
export const NEW_MASTER_TRAP = [...VRRPV3_MIB, 0, 1];
export const PROTO_ERROR_TRAP = [...VRRPV3_MIB, 0, 2];

/** The SMIv2 types served; Integer is Integer32 and the enumerations, Gauge is Unsigned32, Counter is Counter32. */
export type SnmpType = 'Integer' | 'Gauge' | 'Counter' | 'Counter64' | 'TimeTicks' | 'OctetString';
export interface MibVar { oid: readonly number[]; type: SnmpType; value: number | bigint | Uint8Array }

/** vrrpv3StatisticsNewMasterReason. */
export const NewMasterReason = { notMaster: 0, priority: 1, preempted: 2, masterNoResponse: 3 } as const;
/** vrrpv3StatisticsProtoErrReason. */
export const ProtoErrReason = { noError: 0, ipTtlError: 1, versionError: 2, checksumError: 3, vrIdError: 4 } as const;

/** Why this router became MASTER, in the MIB's words: the owner by priority, a preemption, or the master's silence. */
export function newMasterReason(reason: TransitionReason): number {
  if (reason === 'owner') return NewMasterReason.priority;
  if (reason === 'preempt') return NewMasterReason.preempted;
  return NewMasterReason.masterNoResponse; // no-master, master-silent, master-resigned, initial-state, yield-reclaim
}

/** The protocol error a drop reason is, or null when the MIB's enumeration has no name for it. */
export function protoErrReason(reason: DropReason): number | null {
  switch (reason) {
    case 'bad-ttl': return ProtoErrReason.ipTtlError;
    case 'bad-version': case 'version-mismatch': return ProtoErrReason.versionError;
    case 'bad-checksum': return ProtoErrReason.checksumError;
    case 'vrid-not-configured': return ProtoErrReason.vrIdError;
    default: return null;
  }
}

/** What the MIB keeps about an instance beyond its status: the shell updates it on transitions and drops (times in the agent's ms). */
export interface RowHistory {
  /** When the row last left initialize (INIT or FAULT); null while in it. */
  upSince: number | null;
  newMasterReason: number;
  protoErrReason: number;
  /** When the last protocol-error notification was sent (repeats of one reason are rate-limited). */
  protoErrorSentAt: number | null;
  /** Agent time of the last counter restart (the instance started again on reload); 0 = none since the agent started. */
  discontinuityAt: number;
  /** The instance has started once already: a later start is a new engine, its counters from zero. */
  started: boolean;
}

export function emptyHistory(): RowHistory {
  return { upSince: null, newMasterReason: 0, protoErrReason: 0, protoErrorSentAt: null, discontinuityAt: 0, started: false };
}

const down = (s: VrrpState): boolean => s === 'INIT' || s === 'FAULT';

export function historyAfterTransition(h: RowHistory, from: VrrpState, to: VrrpState, reason: TransitionReason, now: number): RowHistory {
  const next = { ...h };
  if (from === 'INIT' && to !== 'INIT') {
    if (h.started) next.discontinuityAt = now;
    next.started = true;
  }
  if (down(to)) next.upSince = null;
  else if (down(from) || h.upSince === null) next.upSince = now;
  if (to === 'MASTER') next.newMasterReason = newMasterReason(reason);
  return next;
}

/** Repeats of the same protocol error notify at most this often per row; a different reason notifies at once. */
export const PROTO_ERROR_REPEAT_MS = 60_000;

export function historyAfterDrop(h: RowHistory, reason: DropReason, now: number): { history: RowHistory; notify: boolean } {
  const code = protoErrReason(reason);
  if (code === null) return { history: h, notify: false };
  const notify = code !== h.protoErrReason || h.protoErrorSentAt === null || now - h.protoErrorSentAt >= PROTO_ERROR_REPEAT_MS;
  return { history: { ...h, protoErrReason: code, protoErrorSentAt: notify ? now : h.protoErrorSentAt }, notify };
}

type Instance = StatusReport['instances'][number];

/** One vrrpv3OperationsEntry with what its columns and its statistics need. */
export interface MibRow {
  name: string;
  /** ifIndex, VRID, InetAddressType (ipv4 1, ipv6 2). */
  index: number[];
  family: 4 | 6;
  inst: Instance;
  preempt: boolean;
  /** Associated addresses of the row's family, as bytes, sorted as their index. */
  addresses: Uint8Array[];
}

const familyOfRow = (i: Instance): 4 | 6 => (i.primaryAddress.includes(':') ? 6 : 4);

function bytesOf(address: string | null, family: 4 | 6): Uint8Array {
  return (address !== null ? addressToBytes(address.split('/')[0]!, family) : null) ?? new Uint8Array(family === 4 ? 4 : 16);
}

export function compareOids(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The instances as rows (those without an interface index are not in the table), ordered by index. */
export function mibRows(status: StatusReport, settings: Readonly<Record<string, { preempt: boolean }>>): MibRow[] {
  const rows: MibRow[] = [];
  for (const inst of status.instances) {
    if (inst.ifindex === undefined) continue;
    const family = familyOfRow(inst);
    const seen = new Set<string>();
    const addresses: Uint8Array[] = [];
    for (const v of inst.configuredVips) {
      const b = addressToBytes(v.address.split('/')[0]!, family);
      if (b && !seen.has(b.join('.'))) { seen.add(b.join('.')); addresses.push(b); }
    }
    addresses.sort((a, b) => compareOids([...a], [...b]));
    rows.push({ name: inst.name, index: [inst.ifindex, inst.vrid, family === 4 ? 1 : 2], family, inst, preempt: settings[inst.name]?.preempt ?? true, addresses });
  }
  return rows.sort((a, b) => compareOids(a.index, b.index));
}

const U32 = 2 ** 32;
const counter = (n: number): number => n % U32;
const ticks = (ms: number): number => Math.floor(Math.max(0, ms) / 10) % U32;
const STATUS: Record<VrrpState, number> = { INIT: 1, FAULT: 1, BACKUP: 2, MASTER: 3 };

/** The instance's drop counts (engine checks) plus the decoder's drops charged to it, by reason. */
function dropCounts(i: Instance): (...reasons: DropReason[]) => number {
  const drops = (i.counters.drops ?? {}) as Partial<Record<DropReason, number>>;
  const rx = (i.counters.rxErrors ?? {}) as Partial<Record<DropReason, number>>;
  return (...reasons) => reasons.reduce((n, r) => n + (drops[r] ?? 0) + (rx[r] ?? 0), 0);
}

const sumOf = (o: unknown): number => Object.values((o ?? {}) as Record<string, number>).reduce((a, b) => a + b, 0);

/** vrrpv3OperationsMasterIpAddr: ours as MASTER, the last advert's source otherwise, all zeros when unknown. */
function masterAddress(row: MibRow): Uint8Array {
  const i = row.inst;
  return bytesOf(i.state === 'MASTER' ? i.primaryAddress : i.state === 'INIT' ? null : i.master, row.family);
}

/** Every served object of one row: operations, associated addresses, statistics. */
function rowVars(row: MibRow, h: RowHistory, now: number, refreshRateMs: number): MibVar[] {
  const i = row.inst;
  const c = (k: string): number => Number(i.counters[k] ?? 0);
  const n = dropCounts(i);
  const op = (col: number, type: SnmpType, value: MibVar['value']): MibVar => ({ oid: [...OPERATIONS_ENTRY, col, ...row.index], type, value });
  const st = (col: number, type: SnmpType, value: MibVar['value']): MibVar => ({ oid: [...STATISTICS_ENTRY, col, ...row.index], type, value });
  const c64 = (x: number): bigint => BigInt(Math.max(0, Math.floor(x)));
  return [
    op(3, 'OctetString', masterAddress(row)),
    op(4, 'OctetString', bytesOf(i.primaryAddress, row.family)),
    op(6, 'Integer', STATUS[i.state]),
    op(7, 'Gauge', i.effectivePriority),
    op(8, 'Integer', row.addresses.length),
    op(9, 'Integer', Math.round(i.advertIntervalMs / 10)),
    op(10, 'Integer', row.preempt ? 1 : 2),
    op(11, 'Integer', 1), // accept mode: the VIPs are local addresses of the MASTER; vrrpd installs no filter
    op(12, 'TimeTicks', h.upSince === null ? 0 : ticks(now - h.upSince)),
    op(13, 'Integer', 1), // active
    ...row.addresses.map((a) => ({ oid: [...ASSOCIATED_ENTRY, 2, ...row.index, a.length, ...a], type: 'Integer' as const, value: 1 })),
    st(1, 'Counter', counter(c('becameMaster'))),
    st(2, 'Integer', h.newMasterReason),
    st(3, 'Counter64', c64(c('advertsReceived') + sumOf(i.counters.drops) + sumOf(i.counters.rxErrors))),
    st(4, 'Counter64', c64(n('interval-mismatch', 'interval-out-of-range'))),
    st(5, 'Counter64', c64(n('bad-ttl'))),
    st(6, 'Integer', h.protoErrReason),
    st(7, 'Counter64', c64(c('priorityZeroReceived'))),
    st(8, 'Counter64', c64(c('priorityZeroSent'))),
    st(9, 'Counter64', c64(n('bad-type'))),
    st(10, 'Counter64', c64(c('addressMismatches'))),
    st(11, 'Counter64', c64(n('short-packet', 'length-mismatch'))),
    st(12, 'TimeTicks', ticks(h.discontinuityAt)),
    st(13, 'Gauge', refreshRateMs),
  ];
}

/** The router-wide statistics: the daemon's drops plus the ones the instances counted. */
function globalVars(status: StatusReport): MibVar[] {
  const total = (r: DropReason): number => (status.daemon.drops[r] ?? 0)
    + status.instances.reduce((s, i) => s + Number(((i.counters.drops ?? {}) as Record<string, number>)[r] ?? 0), 0);
  const g = (sub: number, value: number): MibVar => ({ oid: [...ROUTER_STATISTICS, sub, 0], type: 'Counter64', value: BigInt(value) });
  return [
    g(1, total('bad-checksum')),
    g(2, total('bad-version') + total('version-mismatch')),
    g(3, total('vrid-not-configured')),
    { oid: [...ROUTER_STATISTICS, 4, 0], type: 'TimeTicks', value: 0 }, // the daemon's counters never restart while it runs
  ];
}

/** The whole served view, sorted by OID. `now`: the agent's clock (ms), as the histories. */
export function mibVars(rows: readonly MibRow[], histories: ReadonlyMap<string, RowHistory>, status: StatusReport, now: number, refreshRateMs: number): MibVar[] {
  const vars = [...globalVars(status), ...rows.flatMap((r) => rowVars(r, histories.get(r.name) ?? emptyHistory(), now, refreshRateMs))];
  return vars.sort((a, b) => compareOids(a.oid, b.oid));
}

/** Objects served (a scalar or a column), so that a GET below one is noSuchInstance, elsewhere noSuchObject. */
const SERVED: readonly (readonly number[])[] = [
  ...[3, 4, 6, 7, 8, 9, 10, 11, 12, 13].map((c) => [...OPERATIONS_ENTRY, c]),
  [...ASSOCIATED_ENTRY, 2],
  ...[1, 2, 3, 4].map((s) => [...ROUTER_STATISTICS, s]),
  ...Array.from({ length: 13 }, (_, k) => [...STATISTICS_ENTRY, k + 1]),
];

const isPrefix = (p: readonly number[], oid: readonly number[]): boolean => oid.length > p.length && p.every((x, k) => oid[k] === x);

/** AgentX Get: the variable, or why there is none. */
export function getVar(vars: readonly MibVar[], oid: readonly number[]): MibVar | 'noSuchObject' | 'noSuchInstance' {
  const hit = vars.find((v) => compareOids(v.oid, oid) === 0);
  if (hit) return hit;
  return SERVED.some((p) => isPrefix(p, oid)) ? 'noSuchInstance' : 'noSuchObject';
}

/**
 * AgentX GetNext over one search range (RFC 2741 §7.2.3.2): the first variable after `start` (at it too when
 * `include`), before `end` when an end is given; null is endOfMibView.
 */
export function nextVar(vars: readonly MibVar[], start: readonly number[], include: boolean, end: readonly number[] | null): MibVar | null {
  for (const v of vars) {
    const c = compareOids(v.oid, start);
    if (c < 0 || (c === 0 && !include)) continue;
    return end && end.length > 0 && compareOids(v.oid, end) >= 0 ? null : v;
  }
  return null;
}

/** vrrpv3NewMaster: the master's address and why (RFC 6527 §7). */
export function newMasterNotification(row: MibRow, h: RowHistory): { trap: readonly number[]; varbinds: MibVar[] } {
  return {
    trap: NEW_MASTER_TRAP,
    varbinds: [
      { oid: [...OPERATIONS_ENTRY, 3, ...row.index], type: 'OctetString', value: masterAddress(row) },
      { oid: [...STATISTICS_ENTRY, 2, ...row.index], type: 'Integer', value: h.newMasterReason },
    ],
  };
}

/** vrrpv3ProtoError: the reason of the last protocol error of the row. */
export function protoErrorNotification(row: MibRow, h: RowHistory): { trap: readonly number[]; varbinds: MibVar[] } {
  return { trap: PROTO_ERROR_TRAP, varbinds: [{ oid: [...STATISTICS_ENTRY, 6, ...row.index], type: 'Integer', value: h.protoErrReason }] };
}
