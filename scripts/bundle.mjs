#!/usr/bin/env node
// The vrrpd command as shipped: OUT/cli.js bundled from src/cli.ts with its dependencies, each lazily loaded command
// in a chunk of its own (OUT/chunks/). npm run build (scripts/build.mjs) puts it over tsc's dist/cli.js (the rest of
// dist/ stays tsc's output: modules the tests and the lab import); npm run package bundles into the package afresh.
//
//   node scripts/bundle.mjs [OUT]          (default: dist)
//
// Why: the unbundled command resolves and compiles ~200 module files at each start (zod alone is 95) and loads
// CommonJS packages through Node's CommonJS-in-ESM path (cjs-module-lexer): slower CLI commands and ~4 MB more RSS
// in the daemon (bench/footprint.md).
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * zod re-exports every locale it ships (`z.locales`, ~290 KiB: half of zod in the bundle) from its entry points; we use
 * none (English is built in and set by zod itself), and `vrrpd check` and the config child compiled them on every
 * run. The namespace is replaced by an empty one; zod's own English messages are unaffected (test/unit/config*).
 */
const zodLocales = {
  name: 'zod-locales',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      (/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'vrrpd-empty' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'vrrpd-empty' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

/** Bundle into `out` (an absolute path or one relative to the repository); prints a one-line summary on stderr. */
export async function bundle(out) {
  rmSync(join(resolve(REPO, out), 'chunks'), { recursive: true, force: true });
  const r = await build({
    absWorkingDir: REPO,
    entryPoints: ['src/cli.ts'],
    outdir: resolve(REPO, out),
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The addon is loaded at run time from build/Release (src/net/native.ts); CommonJS dependencies call require().
    // net-snmp stays a package loaded from node_modules: it is sloppy-mode code (a Proxy set trap returning
    // undefined), which throws once bundled into an ES module, where all code is strict. Only SNMP loads it.
    external: ['*.node', 'net-snmp'],
    banner: { js: "import { createRequire as __vrrpdCreateRequire } from 'node:module'; const require = __vrrpdCreateRequire(import.meta.url);" },
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    plugins: [zodLocales],
  });
  const files = Object.entries(r.metafile.outputs);
  const bytes = files.reduce((n, [, o]) => n + o.bytes, 0);
  process.stderr.write(`bundle: ${out}/cli.js and ${files.length - 1} chunks, ${(bytes / 1024).toFixed(0)} KiB\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await bundle(process.argv[2] ?? 'dist');
