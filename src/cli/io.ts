/** Where a command writes, and how it reports its exit code: injected so commands are testable in-process. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Commands set this to a non-zero value to report failure (e.g. some files could not be hashed). */
  exitCode: number;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, exitCode: 0 };
}
