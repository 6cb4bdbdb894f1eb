// BIRD's control-socket text protocol, pure: reply framing ("NNNN-text" / "NNNN text" / " continuation"), `show protocols` rows, exported prefixes.
//
// What `birdc` speaks (BIRD 2 doc/reply_codes): every reply line starts with a four-digit code and "-" when more lines
// follow, or a space on the reply's last line; a line starting with a space continues the previous code; "+" lines are
// spontaneous printouts. 0xxx: done (0000 OK, 0001 the greeting); 1xxx: table entries; 2xxx: table headings;
// 8xxx: run-time errors; 9xxx: parse errors.

export interface BirdLine { code: number; text: string }
export interface BirdReply { code: number; lines: BirdLine[] }

/** Splits the socket's byte stream into replies; feed chunks, take whole replies. */
export class BirdReplyReader {
  private buf = '';
  private lines: BirdLine[] = [];
  private lastCode = 0;

  /** Whole replies completed by this chunk, in order. */
  push(chunk: string): BirdReply[] {
    this.buf += chunk;
    const out: BirdReply[] = [];
    for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
      const raw = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const m = /^(\d{4})([- ])(.*)$/.exec(raw);
      if (m) {
        this.lastCode = Number(m[1]);
        this.lines.push({ code: this.lastCode, text: m[3]! });
        if (m[2] === ' ') {
          out.push({ code: this.lastCode, lines: this.lines });
          this.lines = [];
        }
      } else if (raw.startsWith(' ')) {
        this.lines.push({ code: this.lastCode, text: raw.slice(1) });
      }
      // "+" spontaneous printouts and anything else: not part of a reply.
    }
    return out;
  }

  /** Bytes held that do not end a line yet (a reply cut short). */
  get pending(): number {
    return this.buf.length + this.lines.length;
  }
}

export const isOk = (r: BirdReply): boolean => r.code < 1000;
/** The error text of a failed reply (its last line), or null. */
export const errorOf = (r: BirdReply): string | null => (r.code >= 8000 ? `${r.code} ${r.lines.at(-1)?.text ?? ''}`.trim() : null);

export interface BirdProtocol {
  name: string;
  /** "BGP", "Direct", "Device"... */
  proto: string;
  /** BIRD's protocol state: up, start, down, flush... */
  state: string;
  /** The Info column: for BGP the session state ("Established", "Active", "Connect") and the last error. */
  info: string;
}

/** The 1002 rows of `show protocols`. */
export function parseProtocols(r: BirdReply): BirdProtocol[] {
  const out: BirdProtocol[] = [];
  for (const l of r.lines) {
    if (l.code !== 1002) continue;
    const t = l.text.trim().split(/\s+/);
    if (t.length < 4) continue;
    const [name, proto, , state, ...rest] = t;
    // The Since column is a time or date (digits with ":", "-", "."), one or two tokens by BIRD's timeformat.
    let i = 0;
    while (i < rest.length && /^[\d:.-]+$/.test(rest[i]!)) i++;
    out.push({ name: name!, proto: proto!, state: state!, info: rest.slice(i).join(' ') });
  }
  return out;
}

/** The prefixes listed by `show route ...` (1007 lines: a route's first line starts with its prefix). */
export function parseRoutePrefixes(r: BirdReply): string[] {
  const out: string[] = [];
  for (const l of r.lines) {
    if (l.code !== 1007) continue;
    const m = /^([0-9A-Fa-f.:]+\/\d{1,3})\s/.exec(l.text);
    if (m && !out.includes(m[1]!)) out.push(m[1]!);
  }
  return out;
}
