// A configuration problem at a file, line and field, and its one-line text (no parser loaded: the daemon imports this).
export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  /** Dotted field path, e.g. "instances.vi_100.priority". */
  path: string;
  message: string;
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.col}: ${i.path || '(top)'}: ${i.message}`;
}
