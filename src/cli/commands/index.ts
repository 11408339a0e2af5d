import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { registerHashCommand } from './hash.js';

/** Every CLI command registers itself here, one file per command. */
export function registerCommands(program: Command, io: CliIo): void {
  registerHashCommand(program, io);
}
