// The pure IPVS plan: quorum and hysteresis (keepalived semantics), inhibitOnFailure at weight 0, scheduler flags,
// one-packet scheduling and the SIP persistence engine in the encoded bytes, timeouts, and the refusals.
import { describe, expect, it } from 'vitest';
import { parseConfig, formatIssue } from '../../src/config/load.js';
import { configSchema, virtualServerSchema, type VirtualServer } from '../../src/config/schema.js';
import { IpvsClient } from '../../src/ipvs/client.js';
import {
  newServiceRequest, setConfigRequest, IP_VS_SVC_F_ONEPACKET, IP_VS_SVC_F_PERSISTENT, IP_VS_SVC_F_SCHED1, IP_VS_SVC_F_SCHED2,
  IP_VS_SVC_F_SCHED3, IPVS_CMD_SET_CONFIG,
} from '../../src/ipvs/codec.js';
import { desiredTable, validateIpvsTable } from '../../src/ipvs/desired.js';
import { describeOp, planIpvs } from '../../src/ipvs/plan.js';
import { evaluateQuorum, nextQuorum, quorumAtStop } from '../../src/ipvs/quorum.js';
import { attrMap, decodeAttrs, HOST_LE } from '../../src/net/nlmsg.js';
import { FakeIpvsKernel } from './fake-ipvs.js';
import { hex } from './fixtures.js';

const vs = (o: Record<string, unknown>): VirtualServer => virtualServerSchema.parse(o);
const table = (o: Record<string, Record<string, unknown>>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, vs(v)]));
const rs = (n: number, weight = 1, extra: Record<string, unknown> = {}) => ({ address: `10.0.0.${n}`, weight, ...extra });
const down = (...addrs: number[]) => (_s: string, r: { address: string }) => !addrs.map((n) => `10.0.0.${n}`).includes(r.address);
const cfg = (o: Record<string, unknown>) => configSchema.parse({ instances: {}, ...o });

describe('quorum (keepalived update_quorum_state)', () => {
  it('gained at quorum + hysteresis, lost below quorum - hysteresis or at 0', () => {
    // quorum 10, hysteresis 3: from down, up at 13; from up, down below 7.
    expect([12, 13].map((w) => nextQuorum(false, w, 10, 3))).toEqual([false, true]);
    expect([7, 6].map((w) => nextQuorum(true, w, 10, 3))).toEqual([true, false]);
    expect(nextQuorum(undefined, 12, 10, 3)).toBe(false); // the start rule is the gain rule
    expect(nextQuorum(true, 0, 1, 5)).toBe(false); // 0 live weight loses whatever the threshold
    expect(nextQuorum(true, 1, 1, 5)).toBe(true);
  });

  it('evaluateQuorum: transitions with the scripts, state carried between evaluations', () => {
    const t = table({ web: { address: '10.1.0.1', port: 80, quorum: 3, hysteresis: 1, quorumUp: '/bin/up', quorumDown: '/bin/down',
      realServers: [rs(1, 2), rs(2, 2), rs(3, 2)] } });
    const start = evaluateQuorum(t, undefined, new Map());
    expect(start.states.get('web')).toBe(true);
    expect(start.transitions).toEqual([]); // up at start: nothing to run (keepalived)
    const oneDown = evaluateQuorum(t, down(1), start.states); // 4 >= 3 - 1: kept
    expect(oneDown.transitions).toEqual([]);
    const twoDown = evaluateQuorum(t, down(1, 2), oneDown.states); // 2 >= 2: still kept (hysteresis)
    expect(twoDown.states.get('web')).toBe(true);
    const allDown = evaluateQuorum(t, down(1, 2, 3), twoDown.states);
    expect(allDown.transitions).toEqual([{ service: 'web', up: false, cause: 'change', weightSum: 0, threshold: 2, command: '/bin/down' }]);
    const back = evaluateQuorum(t, down(1, 2), allDown.states); // 2 < 3 + 1: still down
    expect(back.transitions).toEqual([]);
    const up = evaluateQuorum(t, down(1), back.states); // 4 >= 4: gained
    expect(up.transitions).toEqual([{ service: 'web', up: true, cause: 'change', weightSum: 4, threshold: 4, command: '/bin/up' }]);
    // Removed from the config while up: reported down.
    expect(evaluateQuorum({}, undefined, up.states).transitions).toEqual([{ service: 'web', up: false, cause: 'removed', weightSum: 0, threshold: 1 }]);
  });

  it('start without quorum: reported only with a sorry server (keepalived "Starting with quorum down")', () => {
    const t = table({
      a: { address: '10.1.0.1', port: 80, realServers: [rs(1)], quorumDown: '/bin/a' },
      b: { address: '10.1.0.2', port: 80, realServers: [rs(1)], sorryServer: { address: '10.0.0.99' }, quorumDown: '/bin/b' },
    });
    expect(evaluateQuorum(t, () => false, new Map()).transitions).toEqual([
      { service: 'b', up: false, cause: 'start', weightSum: 0, threshold: 1, command: '/bin/b' }]);
  });

  it('omega: at stop, quorumDown for every omega service, whatever its state', () => {
    const t = table({ a: { address: '10.1.0.1', port: 80, realServers: [rs(1)], omega: true, quorumDown: '/bin/a' },
      b: { address: '10.1.0.2', port: 80, realServers: [rs(1)], quorumDown: '/bin/b' } });
    expect(quorumAtStop(t)).toEqual([{ service: 'a', up: false, cause: 'stop', weightSum: 1, threshold: 1, command: '/bin/a' }]);
  });
});

describe('desired table: inhibitOnFailure and quorum', () => {
  it('a failing server stays at weight 0 with inhibitOnFailure (service-wide or per server); left out otherwise', () => {
    const t = table({
      svc: { address: '10.1.0.1', port: 80, inhibitOnFailure: true, realServers: [rs(1, 5), rs(2, 5), rs(3, 5, { inhibitOnFailure: false })] },
      per: { address: '10.1.0.2', port: 80, realServers: [rs(1, 5, { inhibitOnFailure: true }), rs(2, 5)] },
    });
    const d = desiredTable(t, undefined, { healthy: down(1, 3) });
    expect(d.find((s) => s.name === 'svc')!.dests.map((x) => [x.address, x.weight])).toEqual([['10.0.0.1', 0], ['10.0.0.2', 5]]);
    const per = desiredTable(t, undefined, { healthy: down(1, 2) }).find((s) => s.name === 'per')!;
    expect(per.dests.map((x) => [x.address, x.weight])).toEqual([['10.0.0.1', 0]]);
  });

  it('without quorum the sorry server replaces the live servers; inhibited failing ones stay at weight 0', () => {
    const t = table({ s: { address: '10.1.0.1', port: 80, quorum: 10, inhibitOnFailure: true, sorryServer: { address: '10.0.0.99' },
      realServers: [rs(1, 5), rs(2, 5), rs(3, 5)] } });
    const all = desiredTable(t)[0]!; // 15 >= 10
    expect(all.sorry).toBe(false);
    const lost = desiredTable(t, undefined, { healthy: down(1, 2) })[0]!; // 5 < 10
    expect(lost.sorry).toBe(true);
    expect(lost.dests.map((x) => [x.address, x.weight])).toEqual([['10.0.0.1', 0], ['10.0.0.2', 0], ['10.0.0.99', 1]]);
    // The quorum state decides, not the weight alone: kept up by hysteresis at 5, the real servers stay.
    const kept = desiredTable(t, undefined, { healthy: down(1, 2), quorumUp: () => true })[0]!;
    expect(kept.dests.map((x) => [x.address, x.weight])).toEqual([['10.0.0.1', 0], ['10.0.0.2', 0], ['10.0.0.3', 5]]);
    // Without a sorry server, quorum changes nothing in the table (keepalived).
    const noSorry = desiredTable(table({ s: { address: '10.1.0.1', port: 80, quorum: 10, realServers: [rs(1, 5)] } }))[0]!;
    expect(noSorry.dests.map((x) => x.address)).toEqual(['10.0.0.1']);
  });

  it('planIpvs: a server failing under inhibitOnFailure is an edit to weight 0, not a delete; BACKUP removes what we own', () => {
    const t = table({ s: { address: '10.1.0.1', port: 80, inhibitOnFailure: true, realServers: [rs(1, 5), rs(2, 5)] } });
    const healthy = desiredTable(t);
    const current = healthy.map(({ name: _n, sorry: _s, dests, ...spec }) => ({
      ...spec, stats: {} as never, dests: dests.map((x) => ({ ...x, activeConns: 1, inactConns: 0, persistConns: 0, stats: {} as never })),
    }));
    const p = planIpvs({ virtualServers: t, masters: ['vi_1'], healthy: down(2), current, owned: new Set() });
    expect(p.ops.map(describeOp)).toEqual(['edit-dest tcp 10.1.0.1:80 -> 10.0.0.2:80: weight 5 -> 0']);
    const backup = planIpvs({ virtualServers: t, masters: [], current, owned: new Set(['tcp:10.1.0.1:80']) });
    expect(backup.ops.map(describeOp)).toEqual(['delete-service tcp 10.1.0.1:80']);
  });
});

describe('scheduler flags, one-packet scheduling, persistence engine: in the service and its bytes', () => {
  const flagsOf = (o: Record<string, unknown>) => desiredTable(table({ s: { address: '10.1.0.1', port: 53, protocol: 'udp', ...o } }))[0]!;
  it('sh-fallback/sh-port, mh-*, flag-1..3 and onePacket map to IP_VS_SVC_F_*', () => {
    expect(flagsOf({ scheduler: 'sh', schedulerFlags: ['sh-fallback', 'sh-port'] }).flags).toBe(IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2);
    expect(flagsOf({ scheduler: 'mh', schedulerFlags: ['mh-port'] }).flags).toBe(IP_VS_SVC_F_SCHED2);
    expect(flagsOf({ schedulerFlags: ['flag-3'] }).flags).toBe(IP_VS_SVC_F_SCHED3);
    expect(flagsOf({ onePacket: true }).flags).toBe(IP_VS_SVC_F_ONEPACKET);
    const sip = flagsOf({ persistence: 60, persistenceEngine: 'sip' });
    expect([sip.flags, sip.pe]).toEqual([IP_VS_SVC_F_PERSISTENT, 'sip']);
  });

  it.skipIf(!HOST_LE)('the encoded IPVS_SVC_ATTR_FLAGS, PE_NAME are what the service asks for (mask ~0, as ipvsadm)', () => {
    const s = flagsOf({ scheduler: 'sh', schedulerFlags: ['sh-port'], onePacket: true, persistence: 60, persistenceEngine: 'sip' });
    const { name: _n, sorry: _s, dests: _d, ...spec } = s;
    const top = decodeAttrs(newServiceRequest(spec).attrs);
    if (!top.ok) throw new Error(top.error);
    const inner = decodeAttrs(attrMap(top.value).get(1)!.value);
    if (!inner.ok) throw new Error(inner.error);
    const m = attrMap(inner.value);
    // IP_VS_SVC_F_PERSISTENT | ONEPACKET | SCHED2 = 0x15, host order, then the mask.
    expect(hex(m.get(7)!.value)).toBe('15000000ffffffff');
    expect(hex(m.get(11)!.value)).toBe(hex(new TextEncoder().encode('sip\0')));
    expect(hex(m.get(6)!.value)).toBe(hex(new TextEncoder().encode('sh\0')));
  });
});

describe('timeouts (IPVS_CMD_SET_CONFIG)', () => {
  it.skipIf(!HOST_LE)('only the timeouts set are sent, as top-level u32 seconds (ipvsadm --set)', () => {
    const r = setConfigRequest({ tcp: 7200, udp: 60 });
    expect(r.cmd).toBe(IPVS_CMD_SET_CONFIG);
    expect(hex(r.attrs)).toBe('08000400201c0000' + '080006003c000000');
    expect(() => setConfigRequest({ tcp: 1.5 })).toThrow(RangeError);
  });

  it('client: set, then read back (fake kernel keeping the others)', async () => {
    const k = new FakeIpvsKernel();
    const c = await IpvsClient.open({ sys: k });
    await c.setTimeouts({ tcpFin: 30 });
    expect(await c.getTimeouts()).toEqual({ tcp: 900, tcpFin: 30, udp: 300 });
    c.close();
  });
});

describe('refused, with the field and why (validateIpvsTable)', () => {
  const issues = (o: Record<string, unknown>, top: Record<string, unknown> = {}) =>
    validateIpvsTable(cfg({ virtualServers: { s: { address: '10.1.0.1', port: 80, ...o } }, ...top })).map((i) => `${i.path.join('.')}: ${i.message}`);
  it.each([
    [{ scheduler: 'wlc', schedulerFlags: ['sh-port'] }, 'scheduler flag sh-port applies to the sh scheduler only, not wlc'],
    [{ scheduler: 'sh', schedulerFlags: ['mh-fallback'] }, 'scheduler flag mh-fallback applies to the mh scheduler only, not sh'],
    [{ onePacket: true }, 'onePacket (one-packet scheduling) applies to UDP only, not to a tcp service'],
    [{ protocol: 'udp', persistenceEngine: 'sip' }, 'persistenceEngine sip needs persistence'],
    [{ persistence: 60, persistenceEngine: 'sip' }, 'persistenceEngine sip reads SIP over UDP only, not a tcp service'],
    [{ quorum: 0 }, 'quorum must be at least 1'],
  ])('%j', (o, message) => {
    expect(issues(o as Record<string, unknown>).join('\n')).toContain(`virtualServers.s: virtualServers.s: ${message}`);
  });
  it('accepted: ops on a fwmark service (its UDP packets), flag-N with any scheduler', () => {
    expect(validateIpvsTable(cfg({ virtualServers: { f: { fwmark: 5, onePacket: true, schedulerFlags: ['flag-1'] } } }))).toEqual([]);
  });
  it('timeouts: whole seconds, at most INT_MAX / 1000', () => {
    expect(issues({}, { ipvs: { timeouts: { tcp: '1500ms', udp: '700h' } } })).toEqual([
      'ipvs.timeouts.tcp: a timeout is whole seconds from 1 s to 2147483 s, got 1500 ms',
      'ipvs.timeouts.udp: a timeout is whole seconds from 1 s to 2147483 s, got 2520000000 ms']);
    expect(issues({}, { ipvs: { timeouts: { tcp: '2h', tcpFin: 0.5 } } })).toEqual(['ipvs.timeouts.tcpFin: a timeout is whole seconds from 1 s to 2147483 s, got 500 ms']);
  });
  it('with file:line through the loader, and nothing accepted', () => {
    const yaml = 'instances: {}\nvirtualServers:\n  dns:\n    address: 10.1.0.1\n    port: 53\n    onePacket: true\n';
    const r = parseConfig(yaml, 'x.yaml', { validators: [validateIpvsTable] });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.map(formatIssue)).toEqual([
      'x.yaml:3:3: virtualServers.dns: virtualServers.dns: onePacket (one-packet scheduling) applies to UDP only, not to a tcp service']);
  });
});
