/** `kaitiaki user create EMAIL`: an account for a person, to sign in to the web UI (the password is shown once). */
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { isRole, ROLES } from '../../auth/roles.js';
import type { CliIo } from '../io.js';
import { addStoreOptions, openStore, type StoreOptions } from './context.js';

function parseRole(value: string): string {
  if (!isRole(value)) throw new InvalidArgumentError(`one of ${ROLES.join(', ')}`);
  return value;
}

export function registerUserCommand(program: Command, io: CliIo): void {
  const user = program.command('user').description('accounts for people (the web UI)');
  addStoreOptions(
    user
      .command('create')
      .argument('<email>', 'their email address')
      .description('create an account; prints a generated password once'),
  )
    .option('-r, --role <role>', `${ROLES.join(', ')}`, parseRole, 'moderator')
    .option('--name <name>', 'display name')
    .action(async (email: string, options: StoreOptions & { role: string; name?: string }) => {
      const { ctx, organisation } = await openStore(options);
      try {
        // 18 random bytes: a password nobody has to invent, to be changed or kept in a password manager.
        const password = randomBytes(18).toString('base64url');
        const created = await ctx.accounts.createUser(
          'cli',
          organisation.id,
          { email, displayName: options.name, role: options.role, password },
          'cli',
        );
        io.stdout.write(
          `created ${created.role} ${created.email} in ${organisation.name}; password (shown once): ${password}\n`,
        );
      } finally {
        await ctx.close();
      }
    });
}
