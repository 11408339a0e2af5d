/**
 * Drills started from the API (the incidents page's "Run a drill"): the same scenario as `kaitiaki drill run`, run in
 * the background of the server. The server calls out to the hub and members on the caller's behalf, so each URL
 * must be a host the operator opened for sources (KAITIAKI_SOURCE_ALLOWED_HOSTS) and each media path must resolve
 * under KAITIAKI_SOURCE_FILE_ROOT; anything else is refused before a row is written. The scenario is stored with
 * its keys redacted and the caller's organisation, which alone may read the run.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { isAllowListed } from '../core/outbound.js';
import type { Db } from '../store/database.js';
import { CrisisDrillRunStore, type DrillRunRow } from '../store/crisis-drill-runs.js';
import type { CrisisCaller } from './crisis-service.js';
import { parseScenario, runDrill, type DrillReport, type DrillScenario } from './drill.js';

export type DrillRunStatus = 'running' | 'done' | 'failed';

export interface DrillRunView {
  id: number;
  status: DrillRunStatus;
  /** The exercise incident at the hub, once the drill has finished (null while running or when it failed). */
  incident_id: number | null;
  name: string;
  report: DrillReport | null;
  error: string | null;
  started_at: string;
  finished_at: string | null;
}

interface StoredScenario {
  org_id: number;
  scenario: DrillScenario;
}

const REDACTED = '[redacted]';

/** The scenario as stored: no key survives, so a database dump or a reader of the run learns none. */
function redact(s: DrillScenario): DrillScenario {
  return {
    ...s,
    hub: { ...s.hub, key: REDACTED },
    deciders: s.deciders.map(() => REDACTED),
    members: s.members.map((m) => ({ ...m, key: REDACTED })),
  };
}

export interface DrillRunsDeps {
  db: Db;
  sources: { allowedHosts: readonly string[]; fileRoot: string | null };
  log: (detail: object, message: string) => void;
  /** The drill itself; tests may pass a stand-in. */
  run?: (s: DrillScenario) => Promise<DrillReport>;
}

export class DrillRuns {
  private readonly store: CrisisDrillRunStore;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly deps: DrillRunsDeps) {
    this.store = new CrisisDrillRunStore(deps.db);
  }

  /** Checks the scenario against the operator's policy, records the run and starts it; does not wait for it. */
  async start(caller: CrisisCaller, raw: Record<string, unknown>): Promise<{ id: number }> {
    const root = this.deps.sources.fileRoot;
    if (root === null)
      throw new ValidationError(
        'drills from the API read media under KAITIAKI_SOURCE_FILE_ROOT, which this instance does not set',
        'KAI_ERR_DRILL_SCENARIO',
      );
    const scenario = parseScenario(raw, root);
    this.checkHosts(scenario);
    await checkMedia(scenario, root);
    const stored: StoredScenario = { org_id: caller.orgId, scenario: redact(scenario) };
    const row = await this.store.insert(JSON.stringify(stored), new Date().toISOString());
    const done = this.execute(row.id, scenario).finally(() => this.running.delete(done));
    this.running.add(done);
    return { id: row.id };
  }

  /** The run, for the organisation that started it; others are told it does not exist. */
  async get(caller: CrisisCaller, id: number): Promise<DrillRunView> {
    const row = await this.store.get(id);
    const stored = row ? (JSON.parse(row.scenario) as StoredScenario) : null;
    if (!row || !stored || stored.org_id !== caller.orgId)
      throw new NotFoundError(`drill run ${id} not found`, 'KAI_ERR_DRILL_RUN_NOT_FOUND');
    return view(row, stored);
  }

  /** Resolves once every drill started so far has finished (tests; a graceful close may choose to wait). */
  async idle(): Promise<void> {
    await Promise.all([...this.running]);
  }

  private checkHosts(s: DrillScenario): void {
    const policy = { allowedHosts: this.deps.sources.allowedHosts };
    for (const [what, raw] of [['hub', s.hub.url], ...s.members.map((m) => [m.name, m.url])]) {
      const url = new URL(raw);
      if (!isAllowListed(url, policy))
        throw new ValidationError(
          `${what} host "${url.host}" is not allowed; an operator can allow it with KAITIAKI_SOURCE_ALLOWED_HOSTS`,
          'KAI_ERR_DRILL_HOST',
        );
    }
  }

  private async execute(id: number, scenario: DrillScenario): Promise<void> {
    let incident = 0;
    let results: string;
    try {
      const report = await (this.deps.run ?? ((s) => runDrill(s)))(scenario);
      incident = report.incident_id;
      results = JSON.stringify(report);
    } catch (err) {
      results = JSON.stringify({ error: (err as Error).message });
    }
    try {
      await this.store.finish(id, incident, results, new Date().toISOString());
    } catch (err) {
      // The server may be closing under a long drill; the run then stays "running" in the record.
      this.deps.log({ err, drill_run: id }, 'recording the end of a drill failed');
    }
  }
}

/** Every media path must be a file under the root once symbolic links are followed. */
async function checkMedia(s: DrillScenario, root: string): Promise<void> {
  const realRoot = await realpath(root);
  for (const path of [...s.media.frames, ...(s.media.clip ? [s.media.clip] : [])]) {
    const real = await realpath(path).catch(() => null);
    const rel = real === null ? null : relative(realRoot, real);
    if (rel === null || rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
      throw new ValidationError(
        `media ${path} is not a file under KAITIAKI_SOURCE_FILE_ROOT`,
        'KAI_ERR_DRILL_MEDIA',
      );
  }
}

function view(row: DrillRunRow, stored: StoredScenario): DrillRunView {
  const results = row.results === null ? null : (JSON.parse(row.results) as DrillReport | { error: string });
  const failed = results !== null && 'error' in results;
  return {
    id: row.id,
    status: results === null ? 'running' : failed ? 'failed' : 'done',
    incident_id: results === null || failed ? null : row.incident_id,
    name: stored.scenario.name,
    report: results === null || failed ? null : results,
    error: failed ? results.error : null,
    started_at: row.started_at,
    finished_at: row.finished_at,
  };
}
