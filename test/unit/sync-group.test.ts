// Sync groups: config rules with file:line, group tracking expanded onto members, the engine gate and the pure coordinator.
import { describe, expect, it } from 'vitest';
import { formatIssue, parseConfig } from '../../src/config/load.js';
import { initialState, step } from '../../src/engine/instance.js';
import { reconcile, syncFaultSource } from '../../src/engine/sync-group.js';
import type { InstanceState } from '../../src/engine/types.js';
import { cfg } from '../../src/sim/segment.js';

const two = `trackScripts:
  chk: { script: /bin/true }
instances:
  pub:
    interface: eth0
    vrid: 51
  gw:
    interface: eth1
    vrid: 52
    trackInterfaces: [ eth3 ]
`;

function errors(text: string): string[] {
  const r = parseConfig(text, 'x.yaml');
  return r.ok ? [] : r.errors.map(formatIssue);
}

describe('syncGroups config', () => {
  it('expands group tracking onto every member, after the member\'s own', () => {
    const r = parseConfig(`${two}syncGroups:
  lvs:
    instances: [ pub, gw ]
    trackInterfaces: [ eth2 ]
    trackScripts: [ { name: chk, weight: -20 } ]
    notify: { master: /bin/true, any: /bin/true }
`, 'x.yaml');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.instances.pub!.trackInterfaces).toEqual([{ name: 'eth2', weight: 0 }]);
    expect(r.config.instances.gw!.trackInterfaces).toEqual([{ name: 'eth3', weight: 0 }, { name: 'eth2', weight: 0 }]);
    expect(r.config.instances.gw!.trackScripts).toEqual([{ name: 'chk', weight: -20 }]);
    expect(r.config.syncGroups.lvs!.notify).toMatchObject({ master: '/bin/true', any: '/bin/true', timeout: 10_000 });
    expect(r.warnings).toEqual([]);
  });

  const corpus: [string, string, string[]][] = [
    ['unknown member', 'syncGroups:\n  lvs:\n    instances: [ pub, nat ]\n', ['x.yaml:13:23: syncGroups.lvs.instances.1: no instance "nat" under instances']],
    ['member in two groups', 'syncGroups:\n  a:\n    instances: [ pub ]\n  b:\n    instances: [ gw, pub ]\n',
      ['x.yaml:15:22: syncGroups.b.instances.1: instance "pub" is already in sync group "a"; an instance can be in one group only']],
    ['member twice', 'syncGroups:\n  a:\n    instances: [ pub, pub ]\n', ['syncGroups.a.instances.1: instance "pub" is listed twice']],
    ['no members', 'syncGroups:\n  a:\n    instances: []\n', ['x.yaml:13:5: syncGroups.a.instances: expected at least 1 items']],
    ['unknown track script', 'syncGroups:\n  a:\n    instances: [ pub ]\n    trackScripts: [ nope ]\n',
      ['x.yaml:14:21: syncGroups.a.trackScripts.0: no track script "nope" under trackScripts']],
    ['tracked twice', 'syncGroups:\n  a:\n    instances: [ pub, gw ]\n    trackInterfaces: [ eth3 ]\n',
      ['syncGroups.a.trackInterfaces.0: interface eth3 is tracked by both the group and its member "gw"']],
    ['unknown key', 'syncGroups:\n  a:\n    instances: [ pub ]\n    members: [ gw ]\n', ['x.yaml:14:5: syncGroups.a.members: unknown key "members"']],
    ['bad namespace', `global:\n  netNamespace: ../etc\n${two}`, ['x.yaml:2:3: global.netNamespace: a network namespace name']],
  ];
  for (const [name, text, want] of corpus) {
    it(`refuses: ${name}`, () => {
      const got = errors(name === 'bad namespace' ? text : two + text);
      for (const w of want) expect(got.some((g) => g.includes(w)), `${got.join('\n')}\nwanted ${w}`).toBe(true);
    });
  }

  it('refuses a group mixing address owners and non-owners (keepalived: "this won\'t work")', () => {
    const got = errors(two.replace('vrid: 51\n', 'vrid: 51\n    priority: 255\n') + 'syncGroups:\n  a:\n    instances: [ pub, gw ]\n');
    expect(got.join('\n')).toContain('syncGroups.a.instances: members pub are address owners (priority 255) and gw are not');
  });

  it('warns (only) for a one-member group; takes a netNamespace', () => {
    const r = parseConfig(`global:\n  netNamespace: amphora-haproxy\n${two}syncGroups:\n  a:\n    instances: [ pub ]\n`, 'x.yaml');
    expect(r.ok && r.warnings.map(formatIssue)).toEqual(['x.yaml:15:5: syncGroups.a.instances: a sync group with one member behaves exactly like no group']);
    expect(r.ok && r.config.global.netNamespace).toBe('amphora-haproxy');
  });
});

describe('engine gate', () => {
  const c = cfg({ primaryAddress: '10.0.0.1', syncGroup: 'lvs' });
  it('a fired Master_Down_Timer answers wantMaster and stays BACKUP until syncMaster', () => {
    let s = step(initialState(c, 0), c, 0, { type: 'startup' }).state;
    const due = s.masterDownTimer!;
    const r = step(s, c, due, { type: 'tick' });
    expect(r.actions).toEqual([{ type: 'wantMaster', cause: 'no-master' }]);
    expect(r.state).toMatchObject({ state: 'BACKUP', wantsMaster: true });
    expect(r.state.masterDownTimer).toBeGreaterThan(due); // re-armed
    // Again at the re-armed deadline: no second action.
    expect(step(r.state, c, r.state.masterDownTimer!, { type: 'tick' }).actions).toEqual([]);
    s = r.state;
    const m = step(s, c, due + 5, { type: 'syncMaster' });
    expect(m.state.state).toBe('MASTER');
    expect(m.actions.find((a) => a.type === 'transition')).toMatchObject({ to: 'MASTER', reason: 'no-master' });
    expect(m.state.wantsMaster).toBe(false);
  });
  it('syncMaster to a member that does not want MASTER does nothing; syncBackup sends priority 0 then BACKUP', () => {
    const s = step(initialState(c, 0), c, 0, { type: 'startup' }).state;
    expect(step(s, c, 1, { type: 'syncMaster' }).actions).toEqual([]);
    const want = step(s, c, s.masterDownTimer!, { type: 'tick' }).state;
    const master = step(want, c, want.masterDownTimer! - 1, { type: 'syncMaster' }).state;
    const b = step(master, c, 9000, { type: 'syncBackup', detail: 'gw is BACKUP' });
    expect(b.actions.slice(0, 3).map((a) => a.type)).toEqual(['sendAdvert', 'removeVips', 'transition']);
    expect(b.actions[0]).toMatchObject({ priority: 0 });
    expect(b.actions[2]).toMatchObject({ to: 'BACKUP', reason: 'sync-backup', detail: 'sync group lvs: gw is BACKUP' });
  });
  it('syncFault holds the member in FAULT under the group\'s source and releases it to BACKUP', () => {
    const s = step(initialState(c, 0), c, 0, { type: 'startup' }).state;
    const f = step(s, c, 10, { type: 'syncFault', active: true });
    expect(f.state).toMatchObject({ state: 'FAULT', faults: [syncFaultSource('lvs')] });
    expect(step(f.state, c, 20, { type: 'syncFault', active: false }).state.state).toBe('BACKUP');
  });
});

describe('coordinator (pure)', () => {
  const spec = { name: 'lvs', members: ['pub', 'gw'] };
  const st = (over: Partial<InstanceState>): InstanceState => ({ ...initialState(cfg({ primaryAddress: '10.0.0.1' }), 0), ...over });
  const map = (pub: Partial<InstanceState>, gw: Partial<InstanceState>) => new Map([['pub', st(pub)], ['gw', st(gw)]]);

  it('a member with its own fault puts the others in FAULT; released when none has', () => {
    const r = reconcile(spec, 'MASTER', map({ state: 'FAULT', faults: ['interface eth0'] }, { state: 'MASTER' }));
    expect(r.events).toEqual([{ member: 'gw', event: { type: 'syncFault', active: true, detail: 'pub in FAULT' } }]);
    expect(r.state).toBe('FAULT');
    expect(r.actions).toContainEqual({ type: 'groupNotify', group: 'lvs', state: 'FAULT' });
    const back = reconcile(spec, 'FAULT', map({ state: 'BACKUP' }, { state: 'FAULT', faults: ['sync group lvs'] }));
    expect(back.events).toEqual([{ member: 'gw', event: { type: 'syncFault', active: false, detail: 'no member in FAULT' } }]);
  });
  it('MASTER only when every member wants it; BACKUP follows a member that is content as BACKUP', () => {
    expect(reconcile(spec, 'BACKUP', map({ state: 'BACKUP', wantsMaster: true }, { state: 'BACKUP' })).events).toEqual([]);
    expect(reconcile(spec, 'BACKUP', map({ state: 'BACKUP', wantsMaster: true }, { state: 'BACKUP', wantsMaster: true })).events.map((e) => [e.member, e.event.type]))
      .toEqual([['pub', 'syncMaster'], ['gw', 'syncMaster']]);
    expect(reconcile(spec, 'BACKUP', map({ state: 'BACKUP', wantsMaster: true }, { state: 'INIT' })).events).toEqual([]); // not all started
    expect(reconcile(spec, 'MASTER', map({ state: 'MASTER' }, { state: 'BACKUP', wantsMaster: true })).events.map((e) => e.event.type)).toEqual(['syncMaster']);
    expect(reconcile(spec, 'MASTER', map({ state: 'MASTER' }, { state: 'BACKUP' })).events)
      .toEqual([{ member: 'pub', event: { type: 'syncBackup', detail: 'gw is BACKUP' } }]);
  });
  it('group notify on a settled change only; STOP when every member stopped', () => {
    expect(reconcile(spec, 'MASTER', map({ state: 'MASTER' }, { state: 'BACKUP' })).actions).toEqual([]); // moving
    expect(reconcile(spec, 'MASTER', map({ state: 'INIT' }, { state: 'INIT' })).actions.at(-1)).toEqual({ type: 'groupNotify', group: 'lvs', state: 'STOP' });
  });
});
