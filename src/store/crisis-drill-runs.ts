/** SQL for drills started from the API (src/crisis/drill-runs.ts): the scenario as run, and its report. */
import type { Selectable } from 'kysely';
import type { Db } from './database.js';
import type { CrisisDrillRunsTable } from './schema.js';

export type DrillRunRow = Selectable<CrisisDrillRunsTable>;

export class CrisisDrillRunStore {
  constructor(private readonly db: Db) {}

  async insert(scenario: string, startedAt: string): Promise<DrillRunRow> {
    return this.db
      .insertInto('crisis_drill_runs')
      .values({ incident_id: 0, scenario, results: null, started_at: startedAt, finished_at: null })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async get(id: number): Promise<DrillRunRow | undefined> {
    return this.db.selectFrom('crisis_drill_runs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The report (or `{error}`) once the drill ends; incident_id stays 0 when it failed before opening one. */
  async finish(id: number, incidentId: number, results: string, finishedAt: string): Promise<void> {
    await this.db
      .updateTable('crisis_drill_runs')
      .set({ incident_id: incidentId, results, finished_at: finishedAt })
      .where('id', '=', id)
      .execute();
  }
}
