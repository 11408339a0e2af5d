/** SQL for an incident's after-action findings (src/crisis/after-action.ts). Rows only; the rules live there. */
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from './database.js';
import type { CrisisFindingsTable } from './schema.js';

export type FindingRow = Selectable<CrisisFindingsTable>;

export class CrisisFindingsStore {
  constructor(private readonly db: Db) {}

  async insert(row: Insertable<CrisisFindingsTable>): Promise<FindingRow> {
    return this.db.insertInto('crisis_findings').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async get(id: number): Promise<FindingRow | undefined> {
    return this.db.selectFrom('crisis_findings').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async update(id: number, changes: Updateable<CrisisFindingsTable>): Promise<void> {
    await this.db.updateTable('crisis_findings').set(changes).where('id', '=', id).execute();
  }

  /** An incident's findings in the order they were raised. */
  async forIncident(incidentId: number): Promise<FindingRow[]> {
    return this.db
      .selectFrom('crisis_findings')
      .selectAll()
      .where('incident_id', '=', incidentId)
      .orderBy('id')
      .execute();
  }
}
