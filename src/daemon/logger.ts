// Logging: pino JSON lines on stdout (journald keeps them); a compact human format when stdout is a terminal.
import pino, { type Logger } from 'pino';
import { Writable } from 'node:stream';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** One JSON log line → "HH:MM:SS.mmm LEVEL message key=value ...". */
export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const t = typeof o.time === 'string' ? o.time.slice(11, 23) : '';
  const rest = Object.entries(o).filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
  return `${t} ${LEVELS[o.level as number] ?? o.level} ${String(o.msg ?? '')}${rest ? `  ${rest}` : ''}`;
}

export function makeLogger(level: string, stream: NodeJS.WriteStream = process.stdout): Logger {
  const opts = { level, timestamp: pino.stdTimeFunctions.isoTime, base: { pid: process.pid } };
  if (!stream.isTTY) return stream === process.stdout ? pino(opts, pino.destination({ dest: 1, sync: true })) : pino(opts, stream);
  const pretty = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) stream.write(`${prettyLine(line)}\n`);
      cb();
    },
  });
  return pino({ ...opts, base: undefined }, pretty);
}
