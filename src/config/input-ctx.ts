// Diagnostics and field positions shared by the line-based input formats (ldirectord.cf, ipvsadm rules, heartbeat).
import type { KeepalivedDiagnostic, Pos } from './keepalived-parse.js';

export type InputDiagnostic = KeepalivedDiagnostic;
export type { Pos };

/** One mapped input file: what a vrrpd YAML file would contain, what was said about it, and where fields came from. */
export interface MappedInput<C> {
  ok: boolean;
  config: C;
  diagnostics: InputDiagnostic[];
  /** Dotted config path -> where the input sets it. */
  positions: Map<string, Pos>;
  /** Notes for `vrrpd import` output and `vrrpd run` start (no severity: facts the operator must know). */
  notes: string[];
}

/** A place in an input file: file, 1-based line and column. */
export interface Where extends Pos { keyword: string }

export class InputContext {
  readonly diagnostics: InputDiagnostic[] = [];
  readonly positions = new Map<string, Pos>();
  readonly notes: string[] = [];

  constructor(readonly strict = false) {}

  /** Accepted but without effect on traffic, checks, addresses or failover: a warning (an error with --strict). */
  warn(at: Where, message: string): void {
    this.diagnostics.push({ file: at.file, line: at.line, col: at.col, keyword: at.keyword, severity: this.strict ? 'error' : 'warning', message });
  }

  /** Refused: the input cannot be run with its documented meaning. */
  error(at: Where, message: string): void {
    this.diagnostics.push({ file: at.file, line: at.line, col: at.col, keyword: at.keyword, severity: 'error', message });
  }

  at(path: string, where: Pos): void {
    this.positions.set(path, { file: where.file, line: where.line, col: where.col });
  }

  get ok(): boolean {
    return !this.diagnostics.some((d) => d.severity === 'error');
  }
}

/** Split "a b 'c d' \"e\"" into words (quotes removed): the shape shell-like lines share. */
export function words(text: string): { text: string; col: number }[] {
  const out: { text: string; col: number }[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    const col = i + 1;
    let w = '';
    while (i < text.length && !/\s/.test(text[i]!)) {
      const c = text[i]!;
      if (c === '"' || c === "'") {
        const end = text.indexOf(c, i + 1);
        if (end < 0) { w += text.slice(i + 1); i = text.length; break; }
        w += text.slice(i + 1, end);
        i = end + 1;
      } else if (c === '\\' && i + 1 < text.length) {
        w += text[i + 1];
        i += 2;
      } else {
        w += c;
        i++;
      }
    }
    out.push({ text: w, col });
  }
  return out;
}
