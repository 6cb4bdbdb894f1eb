#!/usr/bin/env node
// npm run package: builds dist-pkg/vrrpd_<version>_<arch>.deb with dpkg-deb: Node, dist/, the addon, production deps, unit, conffile, docs.
//
//   node scripts/package.mjs [--out DIR] [--node PATH]      (npm run package builds dist/ first)
//
// The package carries its own Node runtime (/usr/lib/vrrpd/node, the one running this script or --node):
// Debian 12 ships Node 18, below our >= 20, and a director must not need npm, a compiler or the internet.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
import { renderManPages } from './man.mjs';
import { bundle } from './bundle.mjs';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({ options: { out: { type: 'string' }, node: { type: 'string' }, keep: { type: 'boolean' } } });
const OUT = opt.out ?? join(REPO, 'dist-pkg');
const NODE = opt.node ?? process.env.VRRPD_PKG_NODE ?? process.execPath;
const LIB = 'usr/lib/vrrpd';

function die(msg) {
  process.stderr.write(`package: ${msg}\n`);
  process.exit(1);
}
function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) die(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) die(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}
const log = (m) => process.stderr.write(`package: ${m}\n`);

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
const version = String(pkg.version);
if (!/^[0-9][A-Za-z0-9.+~-]*$/.test(version)) die(`package.json version ${version} is not a Debian version`);
const nodeVersion = sh(NODE, ['-p', 'process.versions.node']).trim();
if (Number(nodeVersion.split('.')[0]) < 20) die(`${NODE} is Node ${nodeVersion}; the package needs Node >= 20 (--node PATH)`);
const arch = sh('dpkg', ['--print-architecture']).trim();
for (const f of ['dist/cli.js', 'build/Release/vrrpd_native.node']) { // dist/cli.js: man.mjs reads the command table from it
  if (!existsSync(join(REPO, f))) die(`${f} is missing: run npm ci (addon) and npm run build first`);
}

// The prebuilt addon must match native/ as src/net/native.ts uses it (a stale build/ would ship a daemon that degrades).
{
  const iface = /export interface NativeAddon \{([\s\S]*?)\n\}/.exec(readFileSync(join(REPO, 'src/net/native.ts'), 'utf8'))?.[1] ?? '';
  const wanted = [...iface.matchAll(/^ {2}(\w+)\(/gm)].map((m) => m[1]);
  const addon = createRequire(import.meta.url)(join(REPO, 'build/Release/vrrpd_native.node'));
  const missing = wanted.filter((f) => typeof addon[f] !== 'function');
  if (wanted.length === 0 || missing.length) die(`build/Release/vrrpd_native.node lacks ${missing.join(', ') || 'the NativeAddon interface'}: rebuild it (npm run build:native)`);
}

const stage = mkdtempSync(join(tmpdir(), 'vrrpd-pkg-'));
const S = (p) => join(stage, p);
const put = (dest, data, mode = 0o644) => {
  mkdirSync(dirname(S(dest)), { recursive: true });
  writeFileSync(S(dest), data);
  chmodSync(S(dest), mode);
};
const copy = (src, dest, mode) => put(dest, readFileSync(src), mode ?? (statSync(src).mode & 0o111 ? 0o755 : 0o644));

try {
  // --- the runtime and the product --------------------------------------------------------------------
  copy(NODE, `${LIB}/node`, 0o755);
  put(`${LIB}/package.json`, `${JSON.stringify({ name: pkg.name, version, type: pkg.type, license: pkg.license, dependencies: pkg.dependencies }, null, 2)}\n`);
  // The command bundled afresh from src/ (scripts/bundle.mjs): dist/cli.js and its chunks, nothing else of dist/.
  await bundle(S(`${LIB}/dist`));
  chmodSync(S(`${LIB}/dist/cli.js`), 0o755);
  copy(join(REPO, 'build/Release/vrrpd_native.node'), `${LIB}/build/Release/vrrpd_native.node`, 0o644);
  // Production dependencies: exactly the lockfile's non-dev entries, copied from node_modules (offline, as tested).
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8'));
  let deps = 0;
  for (const [path, meta] of Object.entries(lock.packages ?? {})) {
    if (!path.startsWith('node_modules/') || meta.dev || meta.link) continue;
    const src = join(REPO, path);
    if (!existsSync(src)) {
      if (meta.optional) continue;
      die(`${path} (a production dependency) is not installed: run npm ci`);
    }
    cpSync(src, S(`${LIB}/${path}`), { recursive: true, dereference: true, filter: (p) => !/\/node_modules\/\.bin$/.test(p) });
    deps++;
  }
  put('usr/sbin/vrrpd', `#!/bin/sh
# vrrpd: runs the packaged vrrpd with the packaged Node runtime (see /usr/share/doc/vrrpd/README.md).
exec /${LIB}/node /${LIB}/dist/cli.js "$@"
`, 0o755);

  // --- system integration -----------------------------------------------------------------------------
  copy(join(REPO, 'conf/vrrpd.service'), 'usr/lib/systemd/system/vrrpd.service', 0o644);
  copy(join(REPO, 'conf/vrrpd.yaml'), 'etc/vrrpd/vrrpd.yaml', 0o644);
  const man = await renderManPages();
  for (const [name, text] of Object.entries(man)) {
    const section = name.split('.').pop();
    put(`usr/share/man/man${section}/${name}.gz`, gzipSync(Buffer.from(text), { level: 9 }));
  }
  copy(join(REPO, 'conf/vrrpd.bash-completion'), 'usr/share/bash-completion/completions/vrrpd', 0o644);
  const doc = 'usr/share/doc/vrrpd';
  copy(join(REPO, 'README.md'), `${doc}/README.md`, 0o644);
  copy(join(REPO, 'conf/README.md'), `${doc}/README.conf.md`, 0o644);
  for (const f of ['lvs1.yaml', 'lvs2.yaml', 'vrrpd-netns.conf', 'grafana-dashboard.json', 'vrrpd.rules.yml']) {
    copy(join(REPO, 'conf', f), `${doc}/examples/${f}`, 0o644);
  }
  const nodeLicense = ['/usr/share/doc/nodejs/LICENSE', join(dirname(NODE), '..', 'LICENSE'), join(dirname(NODE), '..', 'share/doc/node/LICENSE')].find((p) => existsSync(p));
  if (!nodeLicense) die(`cannot find the license of ${NODE} (it is redistributed in the package)`);
  put(`${doc}/copyright`, `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: vrrpd

Files: *
License: MIT
${readFileSync(join(REPO, 'LICENSE'), 'utf8').trim().split('\n').map((l) => ` ${l.trim() ? l : '.'}`).join('\n')}

Files: ${LIB}/node
Comment: the Node.js ${nodeVersion} runtime, copied from the build machine (${NODE}).
 Its license and the licenses of the libraries it bundles follow.
License: Node.js
${readFileSync(nodeLicense, 'utf8').trim().split('\n').map((l) => ` ${l.trim() ? l : '.'}`).join('\n')}

Files: ${LIB}/node_modules/*
Comment: production dependencies from npm; each directory holds its own license (a LICENSE file,
 or, for net-snmp and asn1-ber, the License section of its README.md).
License: various (MIT, Apache-2.0, ISC)
`);

  // --- Debian control data ----------------------------------------------------------------------------
  // Library dependencies of the two ELF files, as dpkg-shlibdeps computes them from the installed libraries.
  const shlib = mkdtempSync(join(tmpdir(), 'vrrpd-shlibdeps-'));
  mkdirSync(join(shlib, 'debian'));
  writeFileSync(join(shlib, 'debian/control'), 'Source: vrrpd\n\nPackage: vrrpd\nArchitecture: any\n');
  const shOut = sh('dpkg-shlibdeps', ['-O', `-e${S(`${LIB}/node`)}`, `-e${S(`${LIB}/build/Release/vrrpd_native.node`)}`], { cwd: shlib });
  rmSync(shlib, { recursive: true, force: true });
  const depends = /shlibs:Depends=(.*)/.exec(shOut)?.[1]?.trim();
  if (!depends) die(`dpkg-shlibdeps gave no dependencies: ${shOut}`);
  const sizeKb = Math.ceil(Number(sh('du', ['-sk', '--apparent-size', '--exclude=DEBIAN', stage]).split('\t')[0]));
  put('DEBIAN/control', `Package: vrrpd
Version: ${version}
Architecture: ${arch}
Maintainer: vrrpd maintainers <vrrpd@localhost>
Installed-Size: ${sizeKb}
Depends: ${depends}, procps
Suggests: ipvsadm, bash-completion, prometheus
Section: net
Priority: optional
Description: VRRP high-availability controller for LVS/IPVS directors
 vrrpd elects the MASTER of a pair of Linux load balancers with VRRP (RFC 3768
 and RFC 5798, wire-compatible with keepalived), holds the virtual addresses,
 programs IPVS services with health-checked real servers, and reports JSON
 status and Prometheus metrics. It reads its own YAML, keepalived.conf or
 ldirectord.cf. Node.js ${nodeVersion} is included (/${LIB}/node).
`);
  put('DEBIAN/conffiles', '/etc/vrrpd/vrrpd.yaml\n');
  for (const s of ['postinst', 'prerm', 'postrm']) copy(join(REPO, 'packaging/deb', s), `DEBIAN/${s}`, 0o755);
  const sums = [];
  const walk = (d) => {
    for (const e of readdirSync(S(d), { withFileTypes: true })) {
      const p = d ? `${d}/${e.name}` : e.name;
      if (p === 'DEBIAN' || p.startsWith('etc/')) continue; // conffiles are not listed in md5sums
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) sums.push(`${createHash('md5').update(readFileSync(S(p))).digest('hex')}  ${p}`);
    }
  };
  walk('');
  put('DEBIAN/md5sums', `${sums.sort().join('\n')}\n`);

  mkdirSync(OUT, { recursive: true });
  const deb = join(OUT, `vrrpd_${version}_${arch}.deb`);
  rmSync(deb, { force: true });
  const t0 = performance.now();
  // zstd (dpkg >= 1.21.18: Debian 12 and 13): xz packs ~20% smaller but took minutes on a busy 2-core builder.
  // VRRPD_PKG_COMPRESS=xz for a release build read by older dpkg.
  sh('dpkg-deb', ['--root-owner-group', `-Z${process.env.VRRPD_PKG_COMPRESS ?? 'zstd'}`, '--build', stage, deb]);
  log(`${relative(process.cwd(), deb) || deb}: Node ${nodeVersion}, ${deps} production packages, ${sizeKb} KiB installed, ${(statSync(deb).size / 1048576).toFixed(1)} MiB (dpkg-deb ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  process.stdout.write(`${deb}\n`);
} finally {
  if (opt.keep) log(`staging tree kept: ${stage}`);
  else rmSync(stage, { recursive: true, force: true });
}
