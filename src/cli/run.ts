import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command('kaitiaki')
    .description('Kaitiaki: find, share and act on terrorist and violent-extremist content')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  registerCommands(program);
  return program;
}

/**
 * Runs the CLI with the given arguments (without `node` and the script). Never exits the process: returns the
 * exit code for bin/kaitiaki.ts to set, so commands can be tested as plain function calls.
 */
export async function run(argv: string[], program: Command = buildProgram()): Promise<number> {
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
}
