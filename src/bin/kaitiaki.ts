#!/usr/bin/env node
// The only file that sets the process's exit code: everything below it throws KaitiakiErrors.
import { KaitiakiError } from '../core/errors.js';
import { processIo } from '../cli/io.js';
import { run } from '../cli/run.js';

try {
  process.exitCode = await run(process.argv.slice(2), processIo());
} catch (err) {
  if (err instanceof KaitiakiError) {
    process.stderr.write(`kaitiaki: ${err.message} [${err.code}]\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(
      `kaitiaki: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 70;
  }
}
