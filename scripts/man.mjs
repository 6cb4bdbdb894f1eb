#!/usr/bin/env node
// The man pages, generated: vrrpd(8) from the CLI's own command table and help texts (dist/cli.js), vrrpd.yaml(5) from conf/README.md.
//
//   node scripts/man.mjs [DIR]      writes DIR/vrrpd.8 and DIR/vrrpd.yaml.5 (default man/ under the build tree: dist-pkg/man)
//
// Generating them is what keeps them in sync: a command, option or field exists in the man page because it exists in
// --help or in conf/README.md. test/pkg/man.test.ts renders them with `man --warnings` and checks none was lost.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Escape text for roff: backslashes, and a leading control character. */
export function esc(s) {
  return s.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/, '\\&$1');
}

/** Markdown inline (`code`, **bold**, [text](url)) to roff font changes, escaped. */
function inline(s) {
  let out = '';
  const re = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\([^)]*\)/g;
  let last = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    out += esc(s.slice(last, m.index));
    if (m[1] !== undefined) out += `\\fB${esc(m[1])}\\fR`;
    else if (m[2] !== undefined) out += `\\fB${esc(m[2])}\\fR`;
    else out += esc(m[3]);
    last = m.index + m[0].length;
  }
  return out + esc(s.slice(last));
}

/** Lines that start with a control character after joining must not be taken as requests. */
const text = (lines) => lines.map((l) => l.replace(/^\\e/, '\\&\\e')).join('\n');

const cells = (row) => row.trim().replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/).map((c) => c.trim());

/** conf/README.md (our subset of Markdown: headings, paragraphs, lists, tables, fenced code) as roff. */
export function markdownToRoff(md) {
  const out = [];
  const lines = md.split('\n');
  let para = [];
  const flush = () => {
    if (para.length) out.push('.PP', text([inline(para.join(' '))]));
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/^# /.test(l)) { flush(); continue; } // the title: NAME says it
    let m = /^(##+) (.*)$/.exec(l);
    if (m) {
      flush();
      out.push(`${m[1] === '##' ? '.SH' : '.SS'} ${inline(m[2])}`);
      continue;
    }
    if (l.startsWith('```')) {
      flush();
      out.push('.PP', '.RS 4', '.nf');
      for (i++; i < lines.length && !lines[i].startsWith('```'); i++) out.push(`\\&${esc(lines[i])}`);
      out.push('.fi', '.RE');
      continue;
    }
    if (l.startsWith('|')) {
      flush();
      const head = cells(l);
      i++; // the |---| line
      for (; i + 1 < lines.length && lines[i + 1].startsWith('|'); i++) {
        const row = cells(lines[i + 1]);
        const rest = row.slice(1).map((c, k) => (head[k + 1] === 'meaning' ? inline(c) : `${esc(head[k + 1])}: ${inline(c)}.`));
        out.push('.TP', inline(row[0]), text([rest.join(' ')]));
      }
      continue;
    }
    m = /^- (.*)$/.exec(l);
    if (m) {
      flush();
      const item = [m[1]];
      while (i + 1 < lines.length && /^ {2}\S/.test(lines[i + 1])) item.push(lines[++i].trim());
      out.push('.IP \\(bu 2', text([inline(item.join(' '))]));
      continue;
    }
    if (l.trim() === '') { flush(); continue; }
    para.push(l.trim());
  }
  flush();
  return out.join('\n');
}

/** A command's --help text as roff: usage lines, paragraphs, option lists (.TP), indented examples (.nf). */
export function helpToRoff(help) {
  const out = [];
  const lines = help.replace(/\n+$/, '').split('\n');
  let para = [];
  const flush = () => {
    if (para.length) out.push('.PP', text([esc(para.join(' '))]));
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/^(Usage:| {7}vrrpd )/.test(l)) {
      flush();
      out.push('.PP', `.B ${esc(l.replace(/^Usage:\s*|^\s+/, ''))}`.replace(/^\.B (.*)$/, (_, s) => `.B "${s.replace(/"/g, '\\(dq')}"`));
      continue;
    }
    if (/^[A-Z][A-Za-z ]*:$/.test(l) || /^Exit codes:/.test(l)) {
      flush();
      const [title, rest] = [l.replace(/:.*$/, ''), l.replace(/^[^:]*:\s*/, '')];
      out.push('.PP', `\\fI${esc(title)}:\\fR`);
      if (rest) para.push(rest);
      continue;
    }
    // An option or a list entry: "  -x, --long ARG   text" (continuations indented deeper).
    const m = /^ {2}(\S.*?)(?: {2,}(\S.*))?$/.exec(l);
    if (m && (/^-/.test(m[1]) || (m[2] !== undefined && /^\S+$/.test(m[1])))) {
      flush();
      const body = m[2] !== undefined ? [m[2]] : [];
      const indent = m[2] !== undefined ? l.indexOf(m[2]) : 4;
      while (i + 1 < lines.length && /^\s+\S/.test(lines[i + 1]) && lines[i + 1].search(/\S/) >= Math.min(indent, 6)) body.push(lines[++i].trim());
      out.push('.TP', `\\fB${esc(m[1])}\\fR`, text([esc(body.join(' '))]));
      continue;
    }
    if (/^\s{2,}\S/.test(l)) {
      flush();
      out.push('.RS 4', '.nf');
      for (; i < lines.length && /^\s{2,}\S/.test(lines[i]); i++) out.push(`\\&${esc(lines[i].replace(/^ {2}/, ''))}`);
      i--;
      out.push('.fi', '.RE');
      continue;
    }
    if (l.trim() === '') { flush(); continue; }
    para.push(l.trim());
  }
  flush();
  return out.join('\n');
}

function header(name, section, version, title) {
  return `.\\" Generated by scripts/man.mjs from ${section === '8' ? 'the vrrpd --help texts' : 'conf/README.md'}: do not edit.
.TH ${name.toUpperCase()} ${section} "" "vrrpd ${version}" "${title}"
.ad l
.nh`;
}

/** Both pages, as {"vrrpd.8": roff, "vrrpd.yaml.5": roff}. Needs dist/ (npm run build). */
export async function renderManPages() {
  const version = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version;
  const { COMMANDS } = await import(pathToFileURL(join(REPO, 'dist/cli.js')).href);
  const cmds = Object.entries(COMMANDS);
  const page8 = [header('vrrpd', '8', version, 'System Administration'),
    '.SH NAME', 'vrrpd \\- VRRP high\\-availability controller for Linux LVS/IPVS directors',
    '.SH SYNOPSIS',
    ...cmds.map(([n]) => `.B vrrpd ${n}\n.RI [ options ]\n.br`),
    '.B vrrpd \\-\\-help\n|\n.B \\-\\-version',
    '.SH DESCRIPTION',
    text([inline('vrrpd elects the MASTER of a pair (or more) of Linux load balancers with VRRP (RFC 3768 VRRPv2, RFC 5798 VRRPv3, wire\u2011compatible with keepalived), holds the virtual addresses (VIPs) while MASTER, announces them with gratuitous ARP / unsolicited NA, programs IPVS virtual services with health\u2011checked real servers, and reports its state on a control socket (`vrrpd status`) and as Prometheus metrics. It reads its own YAML configuration (see **vrrpd.yaml**(5)), a keepalived.conf or an ldirectord.cf.')]),
    '.PP', text([inline('`vrrpd run` is the daemon; the other commands are tools or talk to a running daemon over its control socket.')]),
    '.SH OPTIONS',
    '.TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nshow the help; \\fBvrrpd\\fR \\fIcommand\\fR \\fB\\-\\-help\\fR (or \\fBvrrpd help\\fR \\fIcommand\\fR) for one command',
    '.TP\n\\fB\\-V\\fR, \\fB\\-\\-version\\fR\nprint the version',
    '.SH COMMANDS',
    ...cmds.map(([n, c]) => `.SS "vrrpd ${n}"\n${text([esc(c.summary)])}.\n${helpToRoff(c.help)}`),
    '.SH EXIT STATUS',
    '.TP\n.B 0\nsuccess (for \\fBrun\\fR: stopped by a signal)',
    ".TP\n.B 1\nthe command's check failed: an invalid configuration, a refused reload, a dropped packet for \\fBdecode\\fR, a yield that was reclaimed",
    '.TP\n.B 2\nusage error',
    '.TP\n.B 3\nthe daemon cannot be reached on its control socket (status, yield, resume, reload)',
    '.TP\n.B 70\nan internal error (a bug: please report it with the message)',
    '.SH SIGNALS',
    '.TP\n.BR SIGTERM ", " SIGINT\nstop: every MASTER sends a priority\\-0 advert (a backup takes over in Skew_Time) and removes its VIPs and IPVS services, then the daemon exits 0.',
    '.TP\n.B SIGHUP\nreload the configuration file, validated whole; an invalid file is refused and the running configuration stays (\\fBvrrpd reload\\fR does the same and prints the outcome).',
    '.SH FILES',
    '.TP\n.I /etc/vrrpd/vrrpd.yaml\nthe configuration the service runs (a conffile; see \\fBvrrpd.yaml\\fR(5))',
    '.TP\n.I /run/vrrpd/vrrpd.sock\nthe control socket (created by the daemon; the directory by systemd, RuntimeDirectory=)',
    '.TP\n.I /usr/lib/systemd/system/vrrpd.service\nthe systemd unit; override with \\fBsystemctl edit vrrpd\\fR',
    '.TP\n.I /usr/lib/vrrpd/\nthe program, its native addon, its dependencies, and the Node.js runtime it runs on (\\fI/usr/lib/vrrpd/node\\fR)',
    '.TP\n.I /usr/share/doc/vrrpd/examples/\nsample pair configurations, the Grafana dashboard and the Prometheus alert rules',
    '.SH ENVIRONMENT',
    'None is read by vrrpd itself; scripts it runs inherit its environment.',
    '.SH SEE ALSO',
    '.BR vrrpd.yaml (5),',
    '.BR systemctl (1),',
    '.BR ipvsadm (8),',
    '.BR keepalived (8)',
    '.PP\nRFC 3768, RFC 5798, RFC 9568.',
  ].join('\n');
  const md = readFileSync(join(REPO, 'conf/README.md'), 'utf8');
  const page5 = [header('vrrpd.yaml', '5', version, 'File Formats'),
    '.SH NAME', 'vrrpd.yaml \\- configuration file of vrrpd',
    '.SH SYNOPSIS', '.I /etc/vrrpd/vrrpd.yaml',
    '.SH DESCRIPTION',
    markdownToRoff(md).replace(/^\.PP\n/, ''),
    '.SH SEE ALSO', '.BR vrrpd (8)',
  ].join('\n');
  return { 'vrrpd.8': `${page8}\n`, 'vrrpd.yaml.5': `${page5}\n` };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2] ?? join(REPO, 'dist-pkg', 'man');
  mkdirSync(dir, { recursive: true });
  for (const [name, t] of Object.entries(await renderManPages())) writeFileSync(join(dir, name), t);
  process.stdout.write(`${dir}/vrrpd.8 ${dir}/vrrpd.yaml.5\n`);
}
