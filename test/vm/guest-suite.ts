// The usual shape of a VM test file: run one guest script, then one `it` per named check it must print as ok.
import { beforeAll, describe, expect, it } from 'vitest';
import { runGuestChecks, type VmResult } from './vm.js';

/**
 * describe(title): the guest at `guest` runs once (beforeAll), must reach its DONE line with exactly `checks`' names
 * in that order, and each check is an `it` named by its description that expects "ok".
 */
export function describeGuestChecks(title: string, guest: string, checks: Readonly<Record<string, string>>,
  o: { skip: boolean; timeoutMs: number }): void {
  describe.skipIf(o.skip)(title, () => {
    let r: VmResult;
    let results = new Map<string, string>();

    beforeAll(async () => {
      ({ r, results } = await runGuestChecks(guest, { timeoutMs: o.timeoutMs }));
    }, 900_000);

    it('the guest script ran every check to the end', () => {
      expect(r.timedOut).toBe(false);
      expect(r.output).toMatch(/^DONE \d+$/m);
      expect([...results.keys()]).toEqual(Object.keys(checks));
    });

    for (const [name, what] of Object.entries(checks)) {
      it(what, () => {
        expect(results.get(name)).toBe('ok');
      });
    }
  });
}
