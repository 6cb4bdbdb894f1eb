// `vrrpd decode` handler: reads the pcap file, stdin or --hex text, prints reports, picks the exit code.
import { readFile } from 'node:fs/promises';
import type { CliIo } from '../cli-io.js';
import { decodeHex, decodePacketBytes, formatReport, type PacketReport } from './decode.js';
import { SUPPORTED_LINK_TYPES, frameToIp, isSupportedLinkType, parsePcap } from './pcap.js';

export interface DecodeOptions {
  /** --hex value; positionals are then more hex. */
  hex: string | undefined;
  json: boolean;
  positionals: string[];
}

const EXIT_OK = 0;
const EXIT_DROPPED = 1;
const EXIT_USAGE = 2;
const USAGE = 'usage: vrrpd decode FILE.pcap|- [--json]  or  vrrpd decode --hex HEX|- [--json]  (vrrpd decode --help)';

function print(report: PacketReport, json: boolean, io: CliIo): void {
  io.stdout(`${json ? JSON.stringify(report) : formatReport(report)}\n`);
}

async function runHex(opts: DecodeOptions, io: CliIo): Promise<number> {
  let text = [opts.hex ?? '', ...opts.positionals].join(' ');
  if (opts.hex === '-' && opts.positionals.length === 0) text = new TextDecoder().decode(await io.readStdin());
  const res = decodeHex(text);
  if (!res.ok) {
    io.stderr(`vrrpd decode: --hex: ${res.error}\n`);
    return EXIT_USAGE;
  }
  print(res.report, opts.json, io);
  return res.report.verdict === 'ok' ? EXIT_OK : EXIT_DROPPED;
}

function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return 'no such file';
  if (err.code === 'EACCES') return 'permission denied';
  if (err.code === 'EISDIR') return 'is a directory';
  return e instanceof Error ? e.message : String(e);
}

async function runPcap(name: string, opts: DecodeOptions, io: CliIo): Promise<number> {
  let bytes: Uint8Array;
  try {
    bytes = name === '-' ? await io.readStdin() : await readFile(name);
  } catch (e) {
    io.stderr(`vrrpd decode: cannot read ${name}: ${errorText(e)}\n`);
    return EXIT_USAGE;
  }
  const label = name === '-' ? '(stdin)' : name;
  const file = parsePcap(bytes);
  if (!file.ok) {
    io.stderr(`vrrpd decode: ${label}: ${file.error}\n`);
    return EXIT_USAGE;
  }
  if (!isSupportedLinkType(file.linkType)) {
    const known = Object.entries(SUPPORTED_LINK_TYPES).map(([n, d]) => `${n} ${d}`).join(', ');
    io.stderr(`vrrpd decode: ${label}: unsupported link type ${file.linkType} (supported: ${known})\n`);
    return EXIT_USAGE;
  }
  for (const w of file.warnings) io.stderr(`vrrpd decode: ${label}: warning: ${w}\n`);
  const first = file.records[0];
  const div = file.precision === 'ns' ? 1e9 : 1e6;
  let vrrp = 0;
  let dropped = 0;
  for (const rec of file.records) {
    const frame = frameToIp(file.linkType, rec.data);
    if (!frame) continue;
    const d = decodePacketBytes(frame.ip);
    if (d.kind !== 'vrrp') continue;
    vrrp++;
    // Relative time from the integer fields, so nanosecond captures keep their precision.
    const relTime = first ? rec.tsSec - first.tsSec + (rec.tsFrac - first.tsFrac) / div : 0;
    const report: PacketReport = { index: rec.index, time: rec.timestamp, relTime, srcMac: frame.srcMac, ...d.report };
    if (rec.capturedLength < rec.originalLength && report.verdict !== 'ok') {
      report.detail += ` (frame cut by the capture snaplen: ${rec.capturedLength} of ${rec.originalLength} bytes)`;
    }
    if (report.verdict !== 'ok') dropped++;
    print(report, opts.json, io);
  }
  const other = file.records.length - vrrp;
  if (vrrp === 0) {
    io.stderr(`vrrpd decode: ${label}: no VRRP packets in ${file.records.length} frames\n`);
  } else if (!opts.json) {
    io.stdout(`-- ${vrrp} VRRP packets: ${vrrp - dropped} ok, ${dropped} dropped; ${other} other frames skipped\n`);
  }
  return dropped > 0 ? EXIT_DROPPED : EXIT_OK;
}

/** Entry point of `vrrpd decode`: returns the exit code (0 all ok, 1 some dropped, 2 usage/input error). */
export async function runDecode(opts: DecodeOptions, io: CliIo): Promise<number> {
  if (opts.hex !== undefined) return runHex(opts, io);
  if (opts.positionals.length !== 1) {
    io.stderr(`vrrpd decode: ${opts.positionals.length === 0 ? 'no input given' : 'one file at a time'}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  return runPcap(opts.positionals[0]!, opts, io);
}
