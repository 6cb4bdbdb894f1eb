// Simulated-segment split-brain heals in both orders: the rightful master must end up answering the clients.
import { describe, expect, it } from 'vitest';
import type { Segment } from '../../src/sim/segment.js';
import { running } from '../support/pair.js';

/**
 * The client's ARP entry for the VIP follows the last GARP burst it received (latency aside): the
 * router of the last 'announce' at or before t. It is served when that router holds the VIPs.
 */
function servedBy(seg: Segment, t: number): string | null {
  const last = seg.log.filter((l) => l.action.type === 'announce' && l.at <= t).at(-1);
  if (!last) return null;
  const change = seg.holderChanges.filter((c) => c.at <= t).at(-1);
  return change?.holders.includes(last.router) ? last.router : null;
}

/** From `from`, the first moment the client is served by `who` for good (checked on every log entry up to `to`). */
function servedFrom(seg: Segment, who: string, from: number, to: number): number | null {
  const times = [from, ...seg.log.map((l) => l.at), ...seg.holderChanges.map((c) => c.at)].filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  let since: number | null = null;
  for (const t of times) {
    if (servedBy(seg, t) === who) since ??= t;
    else since = null;
  }
  return since;
}

type Order = 'rightful-first' | 'lower-first';

/** Partition lvs1 (100) and lvs2 (90) until both are MASTER, heal so that `order`'s advert crosses first. */
function splitAndHeal(order: Order, sendAdvert = true) {
  const seg = running({ higherPrioritySendAdvert: sendAdvert }, { higherPrioritySendAdvert: sendAdvert });
  seg.isolate('lvs2');
  seg.runFor(10_000);
  expect(seg.holders().sort()).toEqual(['lvs1', 'lvs2']);
  expect(servedBy(seg, seg.now)).toBe('lvs2'); // lvs2's takeover GARPs came last
  // Heal half a millisecond before the advert that should cross first.
  const first = seg.router(order === 'rightful-first' ? 'lvs1' : 'lvs2').instance.state.adverTimer!;
  const other = seg.router(order === 'rightful-first' ? 'lvs2' : 'lvs1').instance.state.adverTimer!;
  expect(Math.abs(first - other)).toBeGreaterThan(1); // the phases differ: the order is what we chose
  const heal = first - 0.5;
  seg.at(heal, () => seg.isolate('lvs2', false));
  seg.runFor(5_000);
  return { seg, heal };
}

describe('split-brain heal re-points the clients whichever advert crosses first', () => {
  for (const order of ['rightful-first', 'lower-first'] as const) {
    it(`${order}: lvs1 alone holds the VIPs and the client is served by it within one advert interval + 10 ms`, () => {
      const { seg, heal } = splitAndHeal(order);
      expect(seg.holders()).toEqual(['lvs1']);
      expect(seg.router('lvs2').state).toBe('BACKUP');
      const t = servedFrom(seg, 'lvs1', heal, seg.now);
      expect(t).not.toBeNull();
      expect(t! - heal).toBeLessThanOrEqual(1000 + 10);
      // The re-announce is lvs1's lower-priority burst, caused by an advert from lvs2 after the heal.
      const garp = seg.actions('announce', 'lvs1').find((a) => a.at > heal)!;
      expect(garp.action.cause).toBe('lower-priority');
    });
  }

  it('rightful-first: lvs2 sends one advert at its own priority before it steps down (keepalived higher_prio_send_advert)', () => {
    const { seg, heal } = splitAndHeal('rightful-first');
    const down = seg.transitions('lvs2').find((x) => x.at > heal)!;
    expect(down).toMatchObject({ from: 'MASTER', to: 'BACKUP', reason: 'higher-priority' });
    const told = seg.actions('sendAdvert', 'lvs2').filter((a) => a.at > heal);
    expect(told).toHaveLength(1);
    expect(told[0]!.action.priority).toBe(90);
    expect(told[0]!.at).toBe(down.at);
    // It left before the transition: it is the first action of that step.
    const idx = seg.log.indexOf(told[0]!);
    expect(seg.log.slice(idx).findIndex((l) => l.action.type === 'transition' && l.router === 'lvs2')).toBeGreaterThan(0);
  });

  it('without it (higherPrioritySendAdvert: false) the rightful-first heal leaves the client blackholed: the defect it fixes', () => {
    const { seg, heal } = splitAndHeal('rightful-first', false);
    expect(seg.holders()).toEqual(['lvs1']);
    expect(servedBy(seg, seg.now)).toBeNull(); // still pointed at lvs2, which no longer holds the VIP
    expect(seg.actions('announce', 'lvs1').filter((a) => a.at > heal)).toHaveLength(0);
  });

  it('lower-first still works without it (lvs1 hears lvs2 as a MASTER and answers with a burst)', () => {
    const { seg, heal } = splitAndHeal('lower-first', false);
    const t = servedFrom(seg, 'lvs1', heal, seg.now);
    expect(t! - heal).toBeLessThanOrEqual(1010);
  });

  it('ten heals in a row, alternating orders, each served by lvs1 within 1010 ms (the GARP rate limit never bites: heals are 10 s apart)', () => {
    const seg = running();
    for (let i = 0; i < 10; i++) {
      seg.isolate('lvs2');
      seg.runFor(10_000);
      expect(seg.holders().sort()).toEqual(['lvs1', 'lvs2']);
      const who = i % 2 === 0 ? 'lvs1' : 'lvs2';
      const heal = seg.router(who).instance.state.adverTimer! - 0.5;
      seg.at(heal, () => seg.isolate('lvs2', false));
      seg.runFor(3_000);
      expect(seg.holders()).toEqual(['lvs1']);
      const t = servedFrom(seg, 'lvs1', heal, seg.now);
      expect(t! - heal).toBeLessThanOrEqual(1010);
    }
  });
});
