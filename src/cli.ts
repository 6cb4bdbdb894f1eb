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

/** What a handler may touch of the process: lets handlers run in-process in tests. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The whole of standard input. */
  readStdin(): Promise<Uint8Array>;
}

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

/** Every subcommand. To add one: an entry here, its code in its own module, imported inside run. */
export const COMMANDS: Record<string, Command> = {
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

function version(): string {
  // dist/cli.js and src/cli.ts both sit one level below package.json.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return String(pkg.version);
}

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
