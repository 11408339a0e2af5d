import type { Command } from 'commander';

/** Every CLI command registers itself here, one file per command. */
export function registerCommands(program: Command): void {
  void program;
}
