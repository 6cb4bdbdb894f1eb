// The floor order of src/ as an ESLint rule: a file imports from its own unit or from a unit on a lower floor, never up or sideways.
import { dirname, relative, resolve } from 'node:path';

/**
 * Floors, lowest first. A unit is a folder of src/ (or the named files); an import may go to the same
 * unit or to a unit on a strictly lower floor. protocol/engine → sim/tools → net/config/os →
 * ipvs/checks → daemon → control → the entry points (cli, `vrrpd run`, lab).
 */
export const FLOORS = [
  ['protocol'],
  ['engine'],
  ['sim', 'tools'],
  ['net', 'config', 'os'],
  ['ipvs', 'checks'],
  ['daemon'],
  ['control'],
  ['cli', 'lab'],
];

/** Files that belong to another unit than their folder says. */
const FILE_UNITS = {
  'cli.ts': 'cli', 'cli-io.ts': 'cli', 'daemon.ts': 'cli', 'tools/decode-cli.ts': 'cli',
};

const floorOf = new Map(FLOORS.flatMap((units, i) => units.map((u) => [u, i])));

/** The unit of a path relative to src/, or null when it is not under src/. */
export function unitOf(rel) {
  if (rel.startsWith('..')) return null;
  const norm = rel.split('\\').join('/');
  if (FILE_UNITS[norm]) return FILE_UNITS[norm];
  const slash = norm.indexOf('/');
  return slash < 0 ? 'cli' : norm.slice(0, slash);
}

export const floorsPlugin = {
  rules: {
    'no-upward-import': {
      meta: { type: 'problem', schema: [], messages: {
        up: '{{from}} (floor {{fromFloor}}) must not import {{to}} (floor {{toFloor}}): imports go down the floors ({{order}}).',
        unknown: 'src/{{unit}} has no floor: add it to FLOORS in eslint-floors.js.',
      } },
      create(context) {
        const file = context.filename;
        const srcRoot = resolve(context.cwd, 'src');
        const from = unitOf(relative(srcRoot, file));
        if (from === null) return {};
        const check = (node, source) => {
          if (typeof source !== 'string' || !source.startsWith('.')) return;
          const to = unitOf(relative(srcRoot, resolve(dirname(file), source)));
          if (to === null || to === from) return;
          const ff = floorOf.get(from);
          const tf = floorOf.get(to);
          if (ff === undefined || tf === undefined) {
            context.report({ node, messageId: 'unknown', data: { unit: ff === undefined ? from : to } });
            return;
          }
          if (tf < ff) return;
          context.report({ node, messageId: 'up', data: {
            from, to, fromFloor: String(ff), toFloor: String(tf), order: FLOORS.map((u) => u.join('/')).join(' < '),
          } });
        };
        return {
          ImportDeclaration: (n) => check(n, n.source.value),
          ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
          ExportAllDeclaration: (n) => check(n, n.source.value),
          ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
        };
      },
    },
  },
};
