import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { nowIso, type Db } from './database.js';
import type { OrganisationRow } from './schema.js';

export interface Organisation {
  id: number;
  name: string;
  kind: string;
  createdAt: string;
}

export const ORGANISATION_KINDS = [
  'platform',
  'hub',
  'government',
  'civil-society',
  'research',
  'instance',
  'authority',
] as const;

function toOrganisation(row: OrganisationRow): Organisation {
  return { id: row.id, name: row.name, kind: row.kind, createdAt: row.created_at };
}

export class OrganisationService {
  constructor(private readonly db: Db) {}

  static creator() {
    return (db: Db) => new OrganisationService(db);
  }

  async create(name: string, kind = 'platform'): Promise<Organisation> {
    const trimmed = name.trim();
    if (trimmed.length < 1 || trimmed.length > 200) {
      throw new ValidationError('organisation name must be 1 to 200 characters');
    }
    if (!(ORGANISATION_KINDS as readonly string[]).includes(kind)) {
      throw new ValidationError(`organisation kind must be one of ${ORGANISATION_KINDS.join(', ')}`);
    }
    if (await this.findByName(trimmed))
      throw new ConflictError(`an organisation named "${trimmed}" exists already`);
    const row = await this.db
      .insertInto('organisations')
      .values({ name: trimmed, kind, created_at: nowIso() })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toOrganisation(row);
  }

  async get(id: number): Promise<Organisation> {
    const row = await this.db.selectFrom('organisations').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new NotFoundError(`organisation ${id} not found`);
    return toOrganisation(row);
  }

  async findByName(name: string): Promise<Organisation | undefined> {
    const row = await this.db
      .selectFrom('organisations')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toOrganisation(row);
  }

  async list(): Promise<Organisation[]> {
    const rows = await this.db.selectFrom('organisations').selectAll().orderBy('id').execute();
    return rows.map(toOrganisation);
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('organisations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
