import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.js';
import { processIo, type CliIo } from './io.js';

export function buildProgram(io: CliIo): Command {
  const program = new Command('kaitiaki')
    .description('Kaitiaki: find, share and act on terrorist and violent-extremist content')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run with --help for usage)');
  registerCommands(program, io);
  return program;
}

/**
 * Runs the CLI with the given arguments (without `node` and the script). Never exits the process: returns the
 * exit code for bin/kaitiaki.ts to set, so commands can be tested as plain function calls.
 * Usage errors are exit code 2.
 */
export async function run(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return io.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
}
