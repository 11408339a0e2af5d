/**
 * `kaitiaki sharing collections|members|share`: the banks an organisation shares (collections) in the local store,
 * as that organisation: what it owns or accepted with its rights, who a bank is shared with, and offering a bank
 * to another organisation with read, contribute or moderate rights.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { NotFoundError } from '../../core/errors.js';
import { SHARE_RIGHTS, type Bank, type ShareRights } from '../../store/banks.js';
import type { CliIo } from '../io.js';
import { tableLines } from '../output.js';
import { addStoreOptions, openStore, type StoreOptions } from './context.js';

type Ctx = Awaited<ReturnType<typeof openStore>>['ctx'];

function parseRights(value: string): ShareRights {
  if ((SHARE_RIGHTS as readonly string[]).includes(value)) return value as ShareRights;
  throw new InvalidArgumentError(SHARE_RIGHTS.join(', '));
}

function findBank(ctx: Ctx, orgId: number, nameOrId: string): Promise<Bank> {
  return /^\d+$/.test(nameOrId)
    ? ctx.banks.getVisible(orgId, Number(nameOrId))
    : ctx.banks.getVisibleByName(orgId, nameOrId);
}

async function findOrganisation(ctx: Ctx, nameOrId: string): Promise<{ id: number; name: string }> {
  const found = (await ctx.organisations.list()).find(
    (o) => String(o.id) === nameOrId || o.name === nameOrId,
  );
  if (!found) throw new NotFoundError(`no organisation "${nameOrId}"`);
  return found;
}

export function registerCollectionCommands(sharing: Command, io: CliIo): void {
  addStoreOptions(
    sharing
      .command('collections')
      .description('banks you own or accepted: your rights, members (accepted shares), offers and taxonomy'),
  )
    .option('--json', 'print JSON lines')
    .action(async (options: StoreOptions & { json?: boolean }) => {
      const { ctx, organisation } = await openStore(options);
      try {
        const collections = await ctx.banks.collections(organisation.id);
        const taxonomies = await ctx.taxonomies.presets(collections.map((c) => c.bank.id));
        const rows: string[][] = [];
        for (const c of collections) {
          const hasTaxonomy = taxonomies.has(c.bank.id);
          const preset = taxonomies.get(c.bank.id) ?? null;
          if (options.json)
            io.stdout.write(
              JSON.stringify({
                id: c.bank.id,
                name: c.bank.name,
                owner: { id: c.bank.orgId, name: c.ownerName },
                rights: c.rights,
                members: c.members,
                offers: c.offers,
                taxonomy: hasTaxonomy ? { preset } : null,
              }) + '\n',
            );
          else
            rows.push([
              String(c.bank.id),
              c.bank.name,
              c.rights === 'owner' ? 'you' : c.ownerName,
              c.rights,
              String(c.members),
              String(c.offers),
              hasTaxonomy ? (preset ?? 'custom') : '-',
            ]);
        }
        if (!options.json)
          io.stdout.write(
            tableLines(['id', 'name', 'owner', 'rights', 'members', 'offers', 'taxonomy'], rows),
          );
      } finally {
        await ctx.close();
      }
    });

  addStoreOptions(
    sharing
      .command('members')
      .argument('<bank>', 'bank name or id (one you own)')
      .description('the organisations a bank you own is offered to or shared with, and their rights'),
  )
    .option('--json', 'print JSON lines')
    .action(async (bankName: string, options: StoreOptions & { json?: boolean }) => {
      const { ctx, organisation } = await openStore(options);
      try {
        const bank = await findBank(ctx, organisation.id, bankName);
        const members = await ctx.banks.members(organisation.id, bank.id);
        const rows: string[][] = [];
        for (const m of members) {
          if (options.json)
            io.stdout.write(
              JSON.stringify({
                organisation: { id: m.orgId, name: m.orgName },
                rights: m.rights,
                status: m.status,
                policy: m.policy,
                offered_at: m.offeredAt,
                accepted_at: m.acceptedAt,
              }) + '\n',
            );
          else
            rows.push([
              String(m.orgId),
              m.orgName,
              m.rights,
              m.status,
              m.status === 'accepted' ? (m.policy ?? 'review') : '-',
              m.acceptedAt ?? '-',
            ]);
        }
        if (!options.json)
          io.stdout.write(
            tableLines(['organisation', 'name', 'rights', 'status', 'policy', 'accepted'], rows),
          );
      } finally {
        await ctx.close();
      }
    });

  addStoreOptions(
    sharing
      .command('share')
      .argument('<bank>', 'bank name or id (one you own)')
      .argument('<organisation>', 'organisation id or name to offer it to')
      .description(
        'offer a bank to another organisation (or change its rights); nothing changes for it until it accepts',
      ),
  )
    .option(
      '--rights <rights>',
      'read (match and see), contribute (add, retract own), moderate (retract any, decide disputes, edit the taxonomy)',
      parseRights,
      'read' as ShareRights,
    )
    .option('--json', 'print the shares as JSON lines')
    .action(
      async (
        bankName: string,
        orgName: string,
        options: StoreOptions & { rights: ShareRights; json?: boolean },
      ) => {
        const { ctx, organisation } = await openStore(options);
        try {
          const bank = await findBank(ctx, organisation.id, bankName);
          const to = await findOrganisation(ctx, orgName);
          const shares = await ctx.bankWrites.share('cli', organisation.id, bank.id, to.id, options.rights);
          if (options.json)
            for (const s of shares)
              io.stdout.write(
                JSON.stringify({
                  organisation_id: s.orgId,
                  rights: s.rights,
                  status: s.status,
                  policy: s.policy,
                }) + '\n',
              );
          else {
            const share = shares.find((s) => s.orgId === to.id)!;
            io.stdout.write(
              share.status === 'accepted'
                ? `${to.name} (id ${to.id}) now has ${share.rights} rights on ${bank.name} (id ${bank.id})\n`
                : `offered ${bank.name} (id ${bank.id}) to ${to.name} (id ${to.id}) with ${share.rights} rights; it applies once they accept\n`,
            );
          }
        } finally {
          await ctx.close();
        }
      },
    );
}
