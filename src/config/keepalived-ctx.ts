// What the keepalived mappers share: diagnostics, field positions, argument readers and keyword tables.
import type { KeepalivedDiagnostic, Pos, Statement } from './keepalived-parse.js';

/** A block's keywords: those mapped (handlers), those accepted and ignored, and those refused (with why). */
export interface KeywordTable<T> {
  handlers: Record<string, (s: Statement, target: T) => void>;
  ignored: Record<string, string>;
  refused: Record<string, string>;
}

export class MapContext {
  readonly diagnostics: KeepalivedDiagnostic[] = [];
  /** Dotted config path ("instances.vi_100.priority") -> where the keepalived file sets it. */
  readonly positions = new Map<string, Pos>();
  /** Statements whose { block } a handler read (or warned about): any other block is reported by dispatch. */
  private readonly blocksSeen = new WeakSet<Statement>();

  constructor(readonly strict: boolean) {}

  /** Something accepted but not applied: a warning, an error with strict. */
  warn(at: Statement, message: string, keyword = at.keyword): void {
    this.diagnostics.push({ file: at.file, line: at.line, col: at.col, keyword, severity: this.strict ? 'error' : 'warning', message });
  }

  error(at: Statement, message: string, keyword = at.keyword): void {
    this.diagnostics.push({ file: at.file, line: at.line, col: at.col, keyword, severity: 'error', message });
  }

  /** Record that the config field at `path` comes from `at`. */
  at(path: string, at: Statement): void {
    this.positions.set(path, { file: at.file, line: at.line, col: at.col });
  }

  /** Handle each statement of a block through its keyword table; unknown keywords are warnings. */
  dispatch<T>(stmts: readonly Statement[] | undefined, table: KeywordTable<T>, target: T, where: string): void {
    for (const s of stmts ?? []) {
      const handler = Object.hasOwn(table.handlers, s.keyword) ? table.handlers[s.keyword] : undefined;
      if (handler) {
        handler(s, target);
        if (s.block && !this.blocksSeen.has(s)) this.warn(s, 'takes no { ... } block; the block is ignored');
      } else if (Object.hasOwn(table.refused, s.keyword)) this.error(s, `not supported: ${table.refused[s.keyword]!}`);
      else if (Object.hasOwn(table.ignored, s.keyword)) this.warn(s, `ignored: ${table.ignored[s.keyword]!}`);
      else this.warn(s, `unknown keyword in ${where}; ignored`);
    }
  }

  /** The i-th argument, or an error when it is missing. */
  arg(s: Statement, i = 0, what = 'a value'): string | undefined {
    const t = s.args[i];
    if (t === undefined) this.error(s, `needs ${what}`);
    return t?.text;
  }

  /** Warn about arguments beyond the first n. */
  extra(s: Statement, n: number): void {
    if (s.args.length > n) this.warn(s, `extra argument${s.args.length - n > 1 ? 's' : ''} ignored: ${s.args.slice(n).map((t) => t.text).join(' ')}`);
  }

  /** A whole number (decimal or 0x hex). */
  int(s: Statement, i = 0): number | undefined {
    const v = this.arg(s, i, 'a number');
    if (v === undefined) return undefined;
    const n = /^-?\d+$/.test(v) ? Number(v) : /^0x[0-9a-f]+$/i.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) {
      this.error(s, `"${v}" is not a whole number`);
      return undefined;
    }
    return n;
  }

  /** A non-negative decimal number of seconds (keepalived's <TIMER>). */
  seconds(s: Statement, i = 0): number | undefined {
    const v = this.arg(s, i, 'a number of seconds');
    if (v === undefined) return undefined;
    if (!/^\d+(\.\d+)?$|^\.\d+$/.test(v)) {
      this.error(s, `"${v}" is not a number of seconds`);
      return undefined;
    }
    return Number(v);
  }

  /** keepalived's optional <BOOL>: absent = true. */
  bool(s: Statement, i = 0): boolean | undefined {
    const v = s.args[i]?.text.toLowerCase();
    if (v === undefined) return true;
    if (['on', 'true', 'yes'].includes(v)) return true;
    if (['off', 'false', 'no'].includes(v)) return false;
    this.error(s, `"${s.args[i]!.text}" is not one of on|off|true|false|yes|no`);
    return undefined;
  }

  /** A keyword that takes a { block }. */
  needBlock(s: Statement): Statement[] {
    if (!s.block) this.error(s, 'needs a { ... } block');
    this.blocksSeen.add(s);
    return s.block ?? [];
  }

  /** The block is left out on purpose (the caller warned about the whole statement). */
  skipBlock(s: Statement): void {
    this.blocksSeen.add(s);
  }

  /** A keyword that takes no block: a block given anyway is ignored, with a warning. */
  noBlock(s: Statement): void {
    if (s.block && !this.blocksSeen.has(s)) this.warn(s, 'takes no { ... } block; the block is ignored');
    this.blocksSeen.add(s);
  }

  /**
   * A script with optional user/group: `KEYWORD <STRING>|<QUOTED-STRING> [username [groupname]]`.
   * The command string keeps keepalived's inner quoting ('a b'), which vrrpd's splitter understands.
   */
  command(s: Statement): string | undefined {
    this.noBlock(s);
    const cmd = this.arg(s, 0, 'a command');
    if (s.args.length > 1) this.warn(s, `runs as vrrpd's user: "${s.args.slice(1).map((t) => t.text).join(' ')}" (user/group) ignored`);
    return cmd;
  }
}

/** Seconds as a vrrpd duration string: "1s", "100ms", "1.5s", "3600s". */
export function duration(seconds: number): string {
  const ms = Math.round(seconds * 1_000_000) / 1000;
  return ms < 1000 && ms > 0 && Number.isInteger(ms) ? `${ms}ms` : `${ms / 1000}s`;
}
