// The lint wall around the pure core holds: Node I/O, clocks and timers are rejected in src/engine, src/protocol, the check/track cores and the SNMP mapping.
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [res] = await eslint.lintText(code, { filePath });
  return res!.messages.map((m) => m.ruleId ?? m.message);
}

describe('pure core lint wall', () => {
  const bad: [string, string][] = [
    ["import { readFileSync } from 'node:fs';\nexport const f = () => readFileSync('x');\n", 'no-restricted-imports'],
    ["import * as dgram from 'dgram';\nexport const f = () => dgram;\n", 'no-restricted-imports'],
    ['export const f = () => Date.now();\n', 'no-restricted-properties'],
    ['export const f = () => new Date();\n', 'no-restricted-syntax'],
    ['export const f = () => performance.now();\n', 'no-restricted-globals'],
    ['export const f = () => setTimeout(() => 0, 1);\n', 'no-restricted-globals'],
    ['export const f = () => Math.random();\n', 'no-restricted-properties'],
    ["import { x } from '../net/socket.js';\nexport const f = () => x;\n", 'no-restricted-imports'],
  ];
  for (const file of ['src/engine/probe.ts', 'src/protocol/probe.ts', 'src/checks/core.ts', 'src/daemon/track-core.ts', 'src/daemon/snmp-mib.ts']) {
    for (const [code, rule] of bad) {
      it(`${file} rejects ${code.split('\n')[0]!.slice(0, 60)}`, async () => {
        expect(await ruleIds(code, file)).toContain(rule);
      });
    }
  }
  it('the check and track-script shells around those cores are outside the wall', async () => {
    for (const file of ['src/checks/checker.ts', 'src/daemon/trackers.ts']) {
      expect(await ruleIds('export const f = () => setTimeout(() => 0, performance.now());\n', file)).toEqual([]);
    }
  });
  it('the shell may use them', async () => {
    expect(await ruleIds('export const f = () => Date.now() + performance.now();\n', 'src/daemon.ts')).toEqual([]);
  });
  it('the real core files are clean', async () => {
    const results = await eslint.lintFiles(['src/engine/**/*.ts', 'src/protocol/**/*.ts', 'src/checks/core.ts', 'src/daemon/track-core.ts', 'src/daemon/snmp-mib.ts']);
    expect(results.length).toBeGreaterThanOrEqual(8);
    expect(results.flatMap((r) => r.messages.map((m) => `${r.filePath}: ${m.message}`))).toEqual([]);
  });
});
