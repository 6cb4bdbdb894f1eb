#!/usr/bin/env node
// The vrrpd command line: a table of subcommands (summary, --help, handler loaded on demand) and dispatch.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exit codes shared by every command. */
export const EXIT_OK = 0;
/** The command ran, and what it checked failed (for decode: a packet was dropped by a verdict). */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

import type { CliIo } from './cli-io.js';
export type { CliIo } from './cli-io.js';

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface Command {
  /** One line for `vrrpd --help`. */
  summary: string;
  /** The full `vrrpd <command> --help` text. */
  help: string;
  /** node:util parseArgs options (-h/--help is added for every command). */
  options: NonNullable<ParseArgsConfig['options']>;
  /** Runs the command; returns the exit code. Import heavy modules inside, not at the top of this file. */
  run(values: OptionValues, positionals: string[], io: CliIo): Promise<number>;
}

const DECODE_HELP = `Usage: vrrpd decode FILE.pcap [--json]
       vrrpd decode - [--json]              pcap file on standard input
       vrrpd decode --hex HEX... [--json]   one packet given as hex
       vrrpd decode --hex - [--json]        hex text on standard input

Prints every VRRP packet (IP protocol 112) of a capture, decoded, with the verdict a
receiving router reaches (RFC 3768 / RFC 5798 section 7.1: TTL 255 on multicast,
version, type, length, checksum, interval). Other traffic (ARP, NDP...) is skipped.

Input:
  FILE       classic libpcap file (microsecond or nanosecond, either byte order).
             Link types: Ethernet (802.1Q/802.1ad tags skipped), Linux cooked SLL and
             SLL2 (tcpdump -i any), raw IP. pcapng is not read: convert it with
             tcpdump -r in.pcapng -w out.pcap  (or editcap -F pcap in.pcapng out.pcap)
  --hex HEX  one packet: spaces, colons, newlines, a leading 0x and tcpdump -x
             offsets are ignored, and further arguments are appended. It is an IP
             packet when it starts with 4 or 6, otherwise an Ethernet frame.

Options:
  --json     one JSON object per packet, one per line (NDJSON); addresses as text
  -h, --help show this help

Output (one line per VRRP packet; TIME is seconds since the first frame):
  #N TIME SRC > DST ttl TTL tos 0xTOS VRRPv2|3 vrid ID prio P count N int INTERVAL
     [auth none|PASS "text"] csum 0xXXXX (FORM) addrs A,B => ok | DROP REASON: DETAIL
  FORM is the checksum that verified: vrrp (v2); pseudo-header (v3, RFC 5798);
  no-pseudo-header (v3 IPv4 over the message only: Cisco, Juniper, keepalived
  v3_checksum_as_v2); pseudo-header-mcast-dst (v3 IPv4 unicast with 224.0.0.18 in
  the pseudo-header: keepalived old_unicast_checksum). Nothing when none verified.
  Without --json a last line sums up: -- N VRRP packets: N ok, N dropped; N other frames skipped
  JSON fields: index time relTime srcMac family src dst ttl tos ipId dontFragment
  ipHeaderChecksumOk version vrid priority count intervalCs intervalText addresses
  authType authText checksum checksumForm verdict detail

Exit codes:
  0  every VRRP packet is ok (also when the input holds none; a note goes to stderr)
  1  at least one VRRP packet would be dropped (verdict other than ok)
  2  usage error; unreadable, truncated-header or unsupported file; --hex input that
     is not hex or not a VRRP packet
`;

const SOCKET_OPT = `  --socket PATH   control socket of the daemon (default /run/vrrpd/vrrpd.sock)`;
const CONTROL_EXITS = `Exit codes: 0 done; 1 the daemon refused or the outcome was not the one asked for;
            2 usage error; 3 the daemon cannot be reached.`;

const FORMAT_OPT = `  --format FORMAT     yaml, keepalived (keepalived.conf syntax, mapped as \`vrrpd import\` does),
                      ldirectord (ldirectord.cf), ipvsadm (ipvsadm -S output or a script running
                      ipvsadm) or auto (default: detected from the file's lines). ldirectord and
                      ipvsadm input without instances runs a standalone director (no VRRP); ipvsadm
                      rules have no health checks (said at start)
  --strict            keepalived/ldirectord/ipvsadm input: keywords vrrpd ignores are errors too`;

const RUN_HELP = `Usage: vrrpd run -f FILE [--format FORMAT] [--strict] [--no-ipvs] [--socket PATH] [--log-level LEVEL]
                 [--rt-priority N] [--lock-memory] [--cpu-affinity LIST]

Runs the VRRP daemon in the foreground until SIGTERM or SIGINT. Under systemd (Type=notify,
NOTIFY_SOCKET set) it sends READY=1 once every instance started, STATUS= with each instance's
state, WATCHDOG=1 from its event loop when WatchdogSec= is set, and STOPPING=1 on stop.
The whole config is validated first: a bad config is refused with file:line:col and the field,
and nothing is started. On start, VIPs of the config left on the interfaces by a killed
predecessor are removed. SIGTERM/SIGINT: every MASTER sends a priority-0 advert (a backup takes
over in Skew_Time) and removes its VIPs, then vrrpd exits 0.

IPVS (when the config has virtualServers): a MASTER programs its services (reconciled, never
flushed; services vrrpd does not configure are left alone) before it takes the VIPs, and runs the
master sync daemon; a BACKUP runs the backup sync daemon and keeps the services installed too, as
keepalived does, so a takeover does not wait for the table (ipvs.onBackup: remove takes them out on
BACKUP); FAULT and stop remove them. Without IPVS in the kernel, instances carrying
services stay in FAULT with the reason "IPVS unavailable" (they must not take a VIP they cannot
balance); --no-ipvs (or ipvs.enabled: false) runs VRRP only.

Options:
  -f, --file FILE     the YAML config (see conf/lvs1.yaml), or a keepalived.conf
${FORMAT_OPT}
${SOCKET_OPT}; overrides global.controlSocket
  --log-level LEVEL   trace, debug, info (default), warn, error; overrides global.logLevel
  --no-ipvs           VRRP only: never touch IPVS
  --rt-priority N     every thread at SCHED_RR priority N (1-99; 0 off); overrides
                      global.scheduling.realtimePriority (keepalived vrrp_rt_priority)
  --lock-memory       keep the code and stack resident (mlock on fault; not the JavaScript heap: the unit's
                      MemorySwapMax=0 keeps that out of swap); global.scheduling.lockMemory (vrrp_no_swap)
  --cpu-affinity LIST CPUs to run on, e.g. 0 or 0,1; global.scheduling.cpuAffinity
Logs are JSON lines on stdout (journald); drops are counted by reason and logged at debug.
Exit codes: 0 stopped by a signal; 1 config refused or start failed; 2 usage error.
`;

const STATUS_HELP = `Usage: vrrpd status [--json] [--socket PATH]

Per instance: name, VRID, state (held after a yield), effective (configured) priority, the
current master's address, VIPs held here, time in state, reason of the last transition, and
adverts received/sent. --json prints one object:
  {"daemon":{...},"instances":[{"name","vrid","state","priority","effectivePriority","master",
   "vips","since","reason","reasonDetail","held","faults","counters",...}]}
Announce groups (announce mode) follow in their own table: phase (announced, draining,
withdrawn; held after a yield), fit, the interface when the VIPs are on it, BIRD's state (ok or
unknown) and the BGP protocols exporting the VIPs; unfit groups say why. In JSON: "announce":
[{"name","phase","fit","why","announced","held","drain","bird":{"state","peers","exportedTo"},...}].

Options:
  --json          machine-readable output
${SOCKET_OPT}
${CONTROL_EXITS}
`;

const YIELD_HELP = `Usage: vrrpd yield [INSTANCE] [--for DURATION] [--socket PATH]

Hands MASTER over on purpose: the instance sends priority 0 (a backup takes over in Skew_Time),
releases its VIPs and stays BACKUP, accepting the new master even if its own priority is
higher, until \`vrrpd resume\` or for DURATION (30s, 5m, 1h). If no other router takes over
within Master_Down_Interval it reclaims MASTER by itself: a yield never leaves the VIPs unowned.
Without INSTANCE: every instance this node is MASTER of. Waits for and prints the outcome:
  vi_100: 172.16.1.252 took over in 651 ms
  vi_100: no peer took over; reclaimed after 3.6 s
An announce group (announce mode) as INSTANCE drains: its VIPs leave the announce interface
(BIRD withdraws them), IPVS keeps serving what still arrives, and the group stays withdrawn
until resume; waits until no connection is active, no packet came for drainQuiet, or
drainTimeout (without INSTANCE: every group too):
  web: withdrawn; drained in 1.0 s (quiet, 10 active connection(s))

Options:
  --for DURATION  hold back only this long, then preempt again as configured
${SOCKET_OPT}
Exit codes: 0 a peer took over every yielded instance and every group drained; 1 reclaimed,
            refused (not MASTER), a drain timed out, or nothing to yield; 2 usage error;
            3 the daemon cannot be reached.
`;

const RESUME_HELP = `Usage: vrrpd resume [INSTANCE] [--socket PATH]

Lifts the hold a yield left (all held instances without INSTANCE); normal preemption applies
again at the next advert. An announce group is announced again as soon as it is fit (no
hold-down).

Options:
${SOCKET_OPT}
${CONTROL_EXITS}
`;

const CHECK_HELP = `Usage: vrrpd check -f FILE [--format FORMAT] [--strict] [--quiet]

Validates a config the way \`vrrpd run\` and a reload do, without starting anything: the YAML,
the schema (unknown keys are errors) and the cross-field rules (VRID unique per interface and
family, priority 1-255, interval ranges per version, auth only with VRRPv2, one address family
per instance, unicast peers...). Each problem is printed as FILE:LINE:COL: field.path: message.

A keepalived.conf is mapped first (see \`vrrpd import\`): keywords vrrpd does not carry over are
warnings with their FILE:LINE:COL, and validation errors point at the keepalived line.

Options:
  -f, --file FILE     the YAML config, or a keepalived.conf
${FORMAT_OPT}
  --quiet             print nothing when the config is valid
Exit codes: 0 valid (warnings may be printed); 1 invalid; 2 usage error.
`;

const IMPORT_HELP = `Usage: vrrpd import -f FILE [--strict] [--include-root DIR]
       vrrpd import [-f] FILE --format ldirectord|ipvsadm|heartbeat [--strict]

--format ldirectord / ipvsadm: prints the YAML for an ldirectord.cf or ipvsadm rules (ipvsadm -S
output or a shell script; commands other than ipvsadm are skipped with a warning naming them, a VIP
they add is printed as a hint). docs/ldirectord-keywords.md and docs/ipvsadm-options.md list what
maps to what. --format heartbeat: FILE is ha.cf, haresources and authkeys are read beside it; prints
one YAML document per node (the node haresources prefers gets the higher priority; the ldirectord
resource becomes virtualServersFrom), with notes on timing (Master_Down_Interval vs deadtime) and
authkeys (no VRRP equivalent).

Reads a keepalived configuration (keepalived.conf syntax and the files it includes) and prints
the equivalent vrrpd YAML config on standard output. A header comment names FILE and lists every
warning: each keepalived keyword that is accepted but not carried over, with FILE:LINE:COL. The
result is validated like \`vrrpd check\` does. docs/keepalived-keywords.md lists the keywords
supported (and what they map to), ignored with a warning, and refused. Per source file (the
config and each file it includes) a last stderr line counts its settings:
  FILE: N settings: N carried, N refused, N warned
  vrrpd import -f /etc/keepalived/keepalived.conf > /etc/vrrpd/vrrpd.yaml

Options:
  -f, --file FILE     the keepalived.conf (a lone FILE argument is still accepted)
  --format F          keepalived (default), ldirectord, ipvsadm or heartbeat
  --strict            keywords vrrpd does not support are errors, not warnings
  --include-root DIR  look absolute include paths up under DIR (a config copied from another
                      host); by default an absolute include path is used as it is
Exit codes: 0 imported (warnings also go to stderr); 1 errors (printed on stderr, no YAML);
            2 usage error.
`;

const FORMATS = ['yaml', 'keepalived', 'ldirectord', 'ipvsadm', 'auto'] as const;

/** --format of run and check: undefined when the value is not one of FORMATS. */
function formatOption(values: OptionValues): (typeof FORMATS)[number] | undefined {
  const f = values.format ?? 'auto';
  return (FORMATS as readonly unknown[]).includes(f) ? f as (typeof FORMATS)[number] : undefined;
}

const RELOAD_HELP = `Usage: vrrpd reload [--socket PATH]

Same as SIGHUP to the daemon, but waits for and prints the result. The daemon re-reads its
config file and validates it whole; if it is invalid, the errors are printed and the running
configuration stays in force. Otherwise: unchanged instances are not touched (no advert gap, no
GARP); priority, interval, preemption, VIP lists, GARP and tracking changes are applied live;
an instance whose interface, VRID, version, family, auth or source changed is released (priority
0) and started again; removed instances release their VIPs with a priority-0 advert; new ones start.

Options:
${SOCKET_OPT}
Exit codes: 0 applied; 1 refused (invalid config); 3 the daemon cannot be reached.
`;

/** Every subcommand. To add one: an entry here, its code in its own module, imported inside run. */
export const COMMANDS: Record<string, Command> = {
  reload: {
    summary: 'Reload the daemon\'s config (like SIGHUP) and print what changed, or why it was refused',
    help: RELOAD_HELP,
    options: { socket: { type: 'string' } },
    async run(values, _p, io) {
      const { reloadCommand } = await import('./control/commands.js');
      return reloadCommand(values, io);
    },
  },
  check: {
    summary: 'Validate a config file (exit 0 valid, 1 invalid) without starting anything',
    help: CHECK_HELP,
    options: { file: { type: 'string', short: 'f' }, quiet: { type: 'boolean' }, format: { type: 'string' }, strict: { type: 'boolean' } },
    async run(values, positionals, io) {
      const file = typeof values.file === 'string' ? values.file : positionals[0];
      if (file === undefined) {
        io.stderr('vrrpd check: -f FILE is required\n');
        return EXIT_USAGE;
      }
      const format = formatOption(values);
      if (format === undefined) {
        io.stderr(`vrrpd check: --format is ${FORMATS.join(', ')}\n`);
        return EXIT_USAGE;
      }
      const { loadAnyConfig, formatIssue } = await import('./config/load.js');
      const { validateIpvsTable } = await import('./ipvs/desired.js');
      const r = await loadAnyConfig(file, { format, strict: values.strict === true, validators: [validateIpvsTable] });
      if (!r.ok) {
        for (const w of r.warnings ?? []) io.stderr(`${formatIssue(w)} (warning)\n`);
        for (const e of r.errors) io.stderr(`${formatIssue(e)}\n`);
        io.stderr(`${file}: invalid (${r.errors.length} error${r.errors.length === 1 ? '' : 's'})\n`);
        return EXIT_FAILED;
      }
      for (const w of r.warnings) io.stderr(`${formatIssue(w)} (warning)\n`);
      for (const n of r.notes ?? []) io.stderr(`note: ${n}\n`);
      if (values.quiet !== true) {
        const ni = Object.keys(r.config.instances).length;
        const na = Object.keys(r.config.announce).length;
        const standalone = ni === 0 ? `, standalone director (no VRRP): ${Object.keys(r.config.virtualServers).length} virtual server(s)`
          + `${na ? `, ${na} announce group(s)` : ''}` : '';
        io.stdout(`${file}: valid, ${ni} instance(s)${standalone}\n`);
      }
      return EXIT_OK;
    },
  },
  run: {
    summary: 'Run the VRRP daemon (foreground) with a YAML config or a keepalived.conf',
    help: RUN_HELP,
    options: { file: { type: 'string', short: 'f' }, socket: { type: 'string' }, 'log-level': { type: 'string' },
      format: { type: 'string' }, strict: { type: 'boolean' }, 'no-ipvs': { type: 'boolean' },
      'rt-priority': { type: 'string' }, 'lock-memory': { type: 'boolean' }, 'cpu-affinity': { type: 'string' } },
    async run(values, _positionals, io) {
      if (typeof values.file !== 'string') {
        io.stderr('vrrpd run: -f FILE is required\n');
        return EXIT_USAGE;
      }
      const format = formatOption(values);
      if (format === undefined) {
        io.stderr(`vrrpd run: --format is ${FORMATS.join(', ')}\n`);
        return EXIT_USAGE;
      }
      const rt = values['rt-priority'];
      const rtPriority = typeof rt === 'string' ? Number(rt) : undefined;
      if (rtPriority !== undefined && !(Number.isInteger(rtPriority) && rtPriority >= 0 && rtPriority <= 99)) {
        io.stderr('vrrpd run: --rt-priority is an integer 0-99\n');
        return EXIT_USAGE;
      }
      const aff = values['cpu-affinity'];
      const cpus = typeof aff === 'string' ? aff.split(',').map((x) => Number(x.trim())) : undefined;
      if (cpus && !cpus.every((n) => Number.isInteger(n) && n >= 0 && n < 1024)) {
        io.stderr('vrrpd run: --cpu-affinity is a list of CPU numbers, e.g. 0,1\n');
        return EXIT_USAGE;
      }
      const { runDaemon } = await import('./daemon.js');
      return runDaemon({
        cli: fileURLToPath(import.meta.url),
        scheduling: {
          ...(rtPriority !== undefined ? { realtimePriority: rtPriority } : {}),
          ...(cpus ? { cpuAffinity: cpus } : {}),
          ...(values['lock-memory'] === true ? { lockMemory: true } : {}),
        },
        file: values.file,
        format,
        strict: values.strict === true,
        noIpvs: values['no-ipvs'] === true,
        ...(typeof values.socket === 'string' ? { socket: values.socket } : {}),
        ...(typeof values['log-level'] === 'string' ? { logLevel: values['log-level'] } : {}),
      });
    },
  },
  status: {
    summary: 'Show the state of every instance of the running daemon (table or --json)',
    help: STATUS_HELP,
    options: { json: { type: 'boolean' }, socket: { type: 'string' } },
    async run(values, _p, io) {
      const { statusCommand } = await import('./control/commands.js');
      return statusCommand(values, io);
    },
  },
  yield: {
    summary: 'Hand MASTER over to the peer on purpose, and hold back (until resume or --for)',
    help: YIELD_HELP,
    options: { for: { type: 'string' }, socket: { type: 'string' } },
    async run(values, positionals, io) {
      const { yieldCommand } = await import('./control/commands.js');
      return yieldCommand(values, positionals, io);
    },
  },
  resume: {
    summary: 'Lift the hold left by a yield',
    help: RESUME_HELP,
    options: { socket: { type: 'string' } },
    async run(values, positionals, io) {
      const { resumeCommand } = await import('./control/commands.js');
      return resumeCommand(values, positionals, io);
    },
  },
  import: {
    summary: 'Print the vrrpd YAML config equivalent to a keepalived.conf (warnings for what does not carry over)',
    help: IMPORT_HELP,
    options: { file: { type: 'string', short: 'f' }, strict: { type: 'boolean' }, 'include-root': { type: 'string' }, format: { type: 'string' } },
    async run(values, positionals, io) {
      const file = typeof values.file === 'string' ? values.file : positionals[0];
      if (file === undefined || positionals.length > (typeof values.file === 'string' ? 0 : 1)) {
        io.stderr('vrrpd import: -f FILE is required (one file)\n');
        return EXIT_USAGE;
      }
      const fmt = values.format ?? 'keepalived';
      if (fmt === 'ldirectord' || fmt === 'ipvsadm' || fmt === 'heartbeat') return importOther(file, fmt, values.strict === true, io);
      if (fmt !== 'keepalived') {
        io.stderr('vrrpd import: --format is keepalived (default), ldirectord, ipvsadm or heartbeat\n');
        return EXIT_USAGE;
      }
      const { loadAnyConfig, formatIssue } = await import('./config/load.js');
      const { renderImport } = await import('./config/keepalived.js');
      const { validateIpvsTable } = await import('./ipvs/desired.js');
      const root = values['include-root'];
      const r = await loadAnyConfig(file, { format: 'keepalived', strict: values.strict === true, validators: [validateIpvsTable],
        ...(typeof root === 'string' ? { includeRoot: root } : {}) });
      const warnings = (r.warnings ?? []).map(formatIssue);
      for (const w of warnings) io.stderr(`${w} (warning)\n`);
      const counts = () => {
        for (const c of r.summary ?? []) {
          io.stderr(`${c.file}: ${c.carried + c.refused + c.warned} settings: ${c.carried} carried, ${c.refused} refused, ${c.warned} warned\n`);
        }
      };
      if (!r.ok) {
        for (const e of r.errors) io.stderr(`${formatIssue(e)}\n`);
        counts();
        io.stderr(`${file}: not imported (${r.errors.length} error${r.errors.length === 1 ? '' : 's'})\n`);
        return EXIT_FAILED;
      }
      counts();
      io.stdout(renderImport(file, r.mapped ?? { instances: {} }, warnings));
      return EXIT_OK;
    },
  },
  decode: {
    summary: 'Decode VRRP packets from a pcap file or hex, with the RFC verdict (interop debugging)',
    help: DECODE_HELP,
    options: { hex: { type: 'string' }, json: { type: 'boolean' } },
    async run(values, positionals, io) {
      const { runDecode } = await import('./tools/decode-cli.js');
      return runDecode({
        hex: typeof values.hex === 'string' ? values.hex : undefined,
        json: values.json === true,
        positionals,
      }, io);
    },
  },
};

/** `vrrpd import --format ldirectord|ipvsadm|heartbeat`. */
async function importOther(file: string, format: 'ldirectord' | 'ipvsadm' | 'heartbeat', strict: boolean, io: CliIo): Promise<number> {
  const { importForeign } = await import('./config/import-render.js');
  const { formatIssue } = await import('./config/load.js');
  const { validateIpvsTable } = await import('./ipvs/desired.js');
  const r = await importForeign(file, format, strict, [validateIpvsTable]);
  for (const w of r.warnings) io.stderr(`${formatIssue(w)} (warning)\n`);
  if (!r.ok) {
    for (const e of r.errors) io.stderr(`${formatIssue(e)}\n`);
    io.stderr(`${file}: not imported (${r.errors.length} error${r.errors.length === 1 ? '' : 's'})\n`);
    return EXIT_FAILED;
  }
  io.stdout(r.text ?? '');
  return EXIT_OK;
}

function version(): string {
  // dist/cli.js (compiled or bundled) and src/cli.ts both sit one level below package.json.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return String(pkg.version);
}

/** The argument `vrrpd run` starts its config loader with (see main). */
const CONFIG_CHILD_ARG = '__config-child';

function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`);
  return `Usage: vrrpd <command> [options]

VRRP daemon for Linux LVS/IPVS directors (RFC 3768 VRRPv2, RFC 5798 VRRPv3), and its tools.

Commands:
${lines.join('\n')}

Options:
  -h, --help      show this help; vrrpd <command> --help (or vrrpd help <command>) for one command
  -V, --version   print the version

Exit codes: 0 success; 1 the command's check failed (see the command's help); 2 usage error.
`;
}

/** Run the command line (argv without node and the script); returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr(topHelp());
    return EXIT_USAGE;
  }
  if (first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    if (topic !== undefined) {
      const cmd = COMMANDS[topic];
      if (!cmd) {
        io.stderr(`vrrpd: unknown command '${topic}'; try vrrpd --help\n`);
        return EXIT_USAGE;
      }
      io.stdout(cmd.help);
      return EXIT_OK;
    }
    io.stdout(topHelp());
    return EXIT_OK;
  }
  if (first === '-V' || first === '--version') {
    io.stdout(`${version()}\n`);
    return EXIT_OK;
  }
  // Internal: `vrrpd run` forks this to load its config (src/daemon/config-loader.ts); not a command for operators.
  if (first === CONFIG_CHILD_ARG && process.send !== undefined) {
    const { serveConfigChild } = await import('./daemon/config-child.js');
    return serveConfigChild();
  }
  const cmd = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (!cmd) {
    io.stderr(`vrrpd: unknown command '${first}'; try vrrpd --help\n`);
    return EXIT_USAGE;
  }
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.stderr(`vrrpd ${first}: ${e instanceof Error ? e.message : String(e)}\nTry: vrrpd ${first} --help\n`);
    return EXIT_USAGE;
  }
  if (parsed.values.help === true) {
    io.stdout(cmd.help);
    return EXIT_OK;
  }
  return cmd.run(parsed.values, parsed.positionals, io);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // `vrrpd decode x.pcap | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const io: CliIo = {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
    readStdin: () => readAll(process.stdin),
  };
  main(process.argv.slice(2), io).then(
    (code) => { process.exitCode = code; },
    (e: unknown) => {
      process.stderr.write(`vrrpd: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70; // EX_SOFTWARE: a bug, not a usage error
    },
  );
}
