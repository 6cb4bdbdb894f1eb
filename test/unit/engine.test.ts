// Engine unit tests: step() purity, receive checks, timer drift, deadlines.
import { describe, expect, it } from 'vitest';
import { initialState, nextDeadline, step, VrrpInstance } from '../../src/engine/instance.js';
import type { EngineEvent, InstanceConfig } from '../../src/engine/types.js';
import type { Advert } from '../../src/protocol/advert.js';
import { authDataFor } from '../../src/protocol/advert.js';
import { cfg } from '../../src/sim/segment.js';

const A = '172.16.1.251';
const B = '172.16.1.252';

function advert(over: Partial<Advert> = {}): Advert {
  return {
    version: 3, type: 1, vrid: 100, priority: 90, count: 1, family: 4, intervalCs: 100, authType: 0,
    authData: null, checksum: 0, checksumForm: 'pseudo-header', addresses: ['192.168.1.250'], ...over,
  };
}
const rx = (over: Partial<Advert> = {}, src = B, ttl = 255): EngineEvent => ({ type: 'advert', advert: advert(over), src, ttl });

function backup(c: InstanceConfig = cfg({ primaryAddress: A })) {
  const inst = new VrrpInstance(c, 0);
  inst.step(0, { type: 'startup' });
  return inst;
}

describe('step() is the only writer', () => {
  it('never mutates the state it is given, and returns a new one', () => {
    const c = cfg({ primaryAddress: A });
    const s0 = initialState(c, 0);
    const frozen = JSON.stringify(s0);
    const r = step(s0, c, 0, { type: 'startup' });
    expect(JSON.stringify(s0)).toBe(frozen);
    expect(r.state).not.toBe(s0);
    expect(r.state.state).toBe('BACKUP');
    const r2 = step(r.state, c, 5, rx({ priority: 0 }));
    expect(r.state.counters.priorityZeroReceived).toBe(0);
    expect(r2.state.counters.priorityZeroReceived).toBe(1);
  });
  it('is deterministic: the same inputs give the same outputs', () => {
    const c = cfg({ primaryAddress: A });
    const events: [number, EngineEvent][] = [[0, { type: 'startup' }], [100, rx()], [3800, { type: 'tick' }], [5000, { type: 'tick' }]];
    const run = () => { let s = initialState(c, 0); const out = []; for (const [t, e] of events) { const r = step(s, c, t, e); s = r.state; out.push(r.actions); } return JSON.stringify([s, out]); };
    expect(run()).toBe(run());
  });
});

describe('receive checks (RFC 3768 §7.1, RFC 5798 §7.1)', () => {
  const v2 = cfg({ primaryAddress: A, version: 2, authType: 1, authPassword: 'secret' });
  const cases: [string, InstanceConfig, EngineEvent, string][] = [
    ['TTL 254 multicast', cfg({ primaryAddress: A }), rx({}, B, 254), 'bad-ttl'],
    ['v2 advert to a v3 instance', cfg({ primaryAddress: A }), rx({ version: 2 }), 'version-mismatch'],
    ['IPv6 advert to an IPv4 instance', cfg({ primaryAddress: A }), rx({ family: 6 }), 'family-mismatch'],
    ['other VRID', cfg({ primaryAddress: A }), rx({ vrid: 7 }), 'vrid-not-configured'],
    ['our own advert looped back', cfg({ primaryAddress: A }), rx({}, A), 'own-advert'],
    ['v2 no auth to a PASS instance', v2, rx({ version: 2, authType: 0, authData: new Uint8Array(8) }), 'auth-type-mismatch'],
    ['v2 wrong password', v2, rx({ version: 2, authType: 1, authData: authDataFor('secreT') }), 'auth-mismatch'],
    ['v2 other interval', v2, rx({ version: 2, authType: 1, authData: authDataFor('secret'), intervalCs: 200 }), 'interval-mismatch'],
    ['strict address check', cfg({ primaryAddress: A, strictAddressCheck: true }), rx({ addresses: ['192.168.1.99'] }), 'address-mismatch'],
  ];
  for (const [name, c, ev, reason] of cases) {
    it(`${name} → ${reason}, counted, and the timer is not reset`, () => {
      const inst = backup(c);
      const before = inst.state.masterDownTimer;
      const acts = inst.step(1000, ev);
      expect(acts.filter((a) => a.type === 'drop')).toMatchObject([{ type: 'drop', reason }]);
      expect(inst.state.counters.drops[reason as 'bad-ttl']).toBe(1);
      expect(inst.state.masterDownTimer).toBe(before);
      expect(inst.state.counters.advertsReceived).toBe(0);
    });
  }
  it('the right password is accepted', () => {
    const inst = backup(v2);
    inst.step(1000, rx({ version: 2, authType: 1, authData: authDataFor('secret') }));
    expect(inst.state.counters.advertsReceived).toBe(1);
  });
  it('an address list mismatch is reported but accepted by default (RFC 5798 §7.1 MAY log)', () => {
    const inst = backup();
    const acts = inst.step(1000, rx({ addresses: ['192.168.1.99'] }));
    expect(acts).toMatchObject([{ type: 'addressMismatch', src: B, theirs: ['192.168.1.99'] }]);
    expect(inst.state.counters.advertsReceived).toBe(1);
    expect(inst.state.counters.addressMismatches).toBe(1);
  });
  it('adverts before startup are dropped as not-running', () => {
    const inst = new VrrpInstance(cfg({ primaryAddress: A }), 0);
    expect(inst.step(1, rx())).toMatchObject([{ type: 'drop', reason: 'not-running' }]);
  });
  it('a unicast advert with a low TTL is accepted (keepalived semantics)', () => {
    const inst = backup();
    inst.step(5, { type: 'advert', advert: advert(), src: B, ttl: 64, unicast: true });
    expect(inst.state.counters.advertsReceived).toBe(1);
  });
});

describe('timers as data', () => {
  it('the Adver_Timer does not drift when ticks are late', () => {
    const inst = new VrrpInstance(cfg({ primaryAddress: A, priority: 255 }), 0);
    inst.step(0, { type: 'startup' });
    expect(inst.nextDeadline()).toBe(1000);
    inst.step(1003.7, { type: 'tick' }); // 3.7 ms late
    expect(inst.state.adverTimer).toBe(2000);
    inst.step(2000.2, { type: 'tick' });
    expect(inst.state.adverTimer).toBe(3000);
    // More than a whole interval behind: one advert, then resynchronised to now.
    const acts = inst.step(5500, { type: 'tick' });
    expect(acts.filter((a) => a.type === 'sendAdvert')).toHaveLength(1);
    expect(inst.state.adverTimer).toBe(6500);
  });
  it('a tick before any deadline does nothing', () => {
    const inst = backup();
    expect(inst.step(10, { type: 'tick' })).toEqual([]);
  });
  it('nextDeadline is the earliest armed timer, null when idle', () => {
    const c = cfg({ primaryAddress: A });
    expect(nextDeadline(initialState(c, 0))).toBeNull();
    const inst = backup(c);
    expect(inst.nextDeadline()).toBeCloseTo(3609.375, 9);
    inst.step(100, { type: 'yield', holdMs: 50 }); // refused: BACKUP
    expect(inst.nextDeadline()).toBeCloseTo(3609.375, 9);
  });
});
