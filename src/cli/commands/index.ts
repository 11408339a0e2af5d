import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { registerAuditCommand } from './audit.js';
import { registerBankCommand } from './bank.js';
import { registerHashCommand } from './hash.js';
import { registerMatchCommand } from './match.js';
import { registerRetentionCommand } from './retention.js';
import { registerUserCommand } from './user.js';
import { registerAdminKeyCommand, registerInitCommand } from './init.js';
import { registerServeCommand } from './serve.js';
import { registerReportCommand } from './report.js';
import { registerDsaCommand } from './dsa.js';
import { registerResearchCommand } from './research.js';
import { registerOrderCommand } from './order.js';
import { registerSharingCommand } from './sharing.js';
import { registerDrillCommand } from './drill.js';

/** Every CLI command registers itself here, one file per command. */
export function registerCommands(program: Command, io: CliIo): void {
  registerInitCommand(program, io);
  registerAdminKeyCommand(program, io);
  registerServeCommand(program, io);
  registerHashCommand(program, io);
  registerBankCommand(program, io);
  registerMatchCommand(program, io);
  registerAuditCommand(program, io);
  registerRetentionCommand(program, io);
  registerUserCommand(program, io);
  registerReportCommand(program, io);
  registerDsaCommand(program, io);
  registerResearchCommand(program, io);
  registerOrderCommand(program, io);
  registerSharingCommand(program, io);
  registerDrillCommand(program, io);
}
