// What a command handler may touch of the process (stdout, stderr, stdin): lets handlers run in-process in tests.
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The whole of standard input. */
  readStdin(): Promise<Uint8Array>;
}
