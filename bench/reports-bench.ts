/**
 * `npm run bench -- reports [--decisions 1000000] [--orders 10000]`: a year's company report over that many
 * decisions (60 % from hash matches, with evidence and upload context) and a government report over that many
 * removal orders, on SQLite. Target: company report <= 5 s.
 */
import BetterSqlite3 from 'better-sqlite3';
import { loadavg } from 'node:os';
import { readConfig, sqlitePath } from '../src/config/config.js';
import { AppContext } from '../src/context.js';
import { TransparencyStore } from '../src/store/transparency.js';
import { parsePeriod } from '../src/transparency/stats.js';
import { cleanup, freshStore } from './server-harness.js';

export async function run(args: string[]): Promise<unknown> {
  const get = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return Number(i >= 0 ? args[i + 1] : fallback);
  };
  const decisions = get('--decisions', 1_000_000);
  const orders = get('--orders', 10_000);
  const log = (m: string) => process.stderr.write(`bench reports: ${m}\n`);
  const { dataDir } = await freshStore('sqlite', 'reports');
  try {
    const config = readConfig({ KAITIAKI_SQLITE_SYNCHRONOUS: 'NORMAL' }, { dataDir });
    let ctx = await AppContext.open(config);
    const platform = await ctx.organisations.create('Bench platform', 'platform');
    const authority = await ctx.organisations.create('Bench authority', 'authority');
    const other = await ctx.organisations.create('Bench hub', 'hub');
    await ctx.close();

    // Seeding goes straight to SQLite (prepared statements, one transaction): the report is what is measured.
    const seedStart = performance.now();
    const sqlite = new BetterSqlite3(sqlitePath(config));
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = OFF');
    const now = new Date().toISOString();
    const bank = (org: number, name: string) =>
      Number(
        sqlite
          .prepare(
            `insert into banks (org_id, name, description, default_labels, thresholds, enabled, sharing, created_at, updated_at) values (?, ?, '', '[]', '{}', 1, 'shared', ?, ?)`,
          )
          .run(org, name, now, now).lastInsertRowid,
      );
    const own = bank(platform.id, 'own');
    const shared = bank(other.id, 'shared');
    const insertSubmission = sqlite.prepare(
      `insert into submissions (org_id, external_id, request_hash, signals, uploader_id, context, verdict, created_at) values (?, ?, 'x', '[]', ?, ?, 'queued', ?)`,
    );
    const insertCase = sqlite.prepare(
      `insert into cases (org_id, submission_id, external_id, status, priority, due_at, evidence, created_at, updated_at) values (?, ?, ?, 'decided', 'normal', ?, ?, ?, ?)`,
    );
    const insertDecision = sqlite.prepare(
      `insert into decisions (case_id, org_id, decision, ground_type, ground, reason, automated, decided_by, created_at) values (?, ?, ?, 'terms', 'Terms 4.2', 'Matches known content', ?, ?, ?)`,
    );
    // What the write path stores with each decision (recordDecisionFact), so the report finds facts in place.
    const insertFact = sqlite.prepare(
      `insert into decision_facts (decision_id, org_id, created_at, decision, automated, source, territory, format, labels, banks, seconds) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // ... and the daily roll-up the write path keeps with each fact (TransparencyStore.insertFacts).
    const upsertDay = sqlite.prepare(
      `insert into decision_fact_days (org_id, day, decision, automated, source, territory, format, labels, banks, n) values (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
       on conflict (org_id, day, decision, automated, source, territory, format, labels, banks) do update set n = n + 1`,
    );
    const insertReport = sqlite.prepare(
      `insert into reports (org_id, case_id, kind, source, detail, created_at) values (?, ?, ?, ?, '{}', ?)`,
    );
    const insertOrder = sqlite.prepare(
      `insert into removal_orders (authority_org_id, platform_org_id, reference, authority_name, member_state, content_types, reasons, items, item_count, legal_basis, signed_at, signature, redress, cross_border, received_at, clock_start, deadline_at, status, case_id, action, actioned_at, answered_at, late, annex_iii_ground, created_at)
       values (?, ?, ?, 'Bench authority', ?, '["a"]', 'r', '[]', ?, 'TCO Art. 3', ?, 's', 'court', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const year = Date.parse('2025-01-01T00:00:00Z');
    const span = 365 * 86_400_000;
    const decisionKinds = ['remove', 'remove', 'remove', 'restrict', 'label', 'no-violation'];
    const seedAll = sqlite.transaction(() => {
      for (let i = 0; i < decisions; i++) {
        const at = year + Math.floor((i / decisions) * span);
        const caseAt = new Date(at - (i % 7200) * 1000).toISOString();
        const hash = i % 10 < 6;
        let submissionId: number | null = null;
        let evidence = '[]';
        if (hash) {
          submissionId = Number(
            insertSubmission.run(
              platform.id,
              `c${i}`,
              `u${i % 50_000}`,
              JSON.stringify({
                country: ['DE', 'FR', 'NZ', 'US'][i % 4],
                content_type: i % 3 ? 'photo' : 'video',
              }),
              caseAt,
            ).lastInsertRowid,
          );
          const bankId = i % 5 === 0 ? shared : own;
          evidence = JSON.stringify([
            {
              signalType: 'pdq',
              signalIndex: 0,
              distance: i % 12,
              bank: {
                id: bankId,
                name: bankId === own ? 'own' : 'shared',
                orgId: bankId === own ? platform.id : other.id,
              },
              entry: {
                id: 1 + (i % 10_000),
                labels: [['glorification', 'instruction', 'threat'][i % 3]],
                contributorOrgId: platform.id,
                source: 'api',
                externalId: null,
                status: 'active',
              },
            },
          ]);
        }
        const caseId = Number(
          insertCase.run(platform.id, submissionId, `c${i}`, caseAt, evidence, caseAt, caseAt)
            .lastInsertRowid,
        );
        if (!hash && i % 10 < 9)
          insertReport.run(platform.id, caseId, i % 2 ? 'report' : 'alert', i % 2 ? 'user' : 'tcap', caseAt);
        const automated = hash && i % 2 === 0 ? 1 : 0;
        const decision = decisionKinds[i % decisionKinds.length];
        const decisionId = Number(
          insertDecision.run(
            caseId,
            platform.id,
            decision,
            automated,
            automated ? 'system:policy' : 'user:1',
            new Date(at).toISOString(),
          ).lastInsertRowid,
        );
        const bankId = i % 5 === 0 ? shared : own;
        const fact = [
          platform.id,
          new Date(at).toISOString(),
          decision,
          automated,
          hash
            ? bankId === own
              ? 'own_bank'
              : 'shared_bank'
            : i % 10 < 9
              ? i % 2
                ? 'user_report'
                : 'alert'
              : 'proactive',
          hash ? ['DE', 'FR', 'NZ', 'US'][i % 4] : 'unknown',
          hash ? (i % 3 ? 'photo' : 'video') : 'unknown',
          hash ? JSON.stringify([['glorification', 'instruction', 'threat'][i % 3]]) : '[]',
          hash ? JSON.stringify([[bankId, bankId === own ? platform.id : other.id]]) : '[]',
        ] as const;
        insertFact.run(decisionId, ...fact, i % 7200);
        upsertDay.run(fact[0], fact[1].slice(0, 10), ...fact.slice(2));
      }
      for (let i = 0; i < orders; i++) {
        const received = year + Math.floor((i / orders) * span);
        const actioned = i % 10 !== 0;
        const late = actioned && i % 7 === 0;
        const actionedAt = actioned
          ? new Date(received + (late ? 4_000_000 : 600_000 + (i % 2400) * 1000)).toISOString()
          : null;
        insertOrder.run(
          authority.id,
          platform.id,
          `O-${i}`,
          ['DE', 'FR', 'IE'][i % 3],
          1 + (i % 3),
          new Date(received - 60_000).toISOString(),
          i % 4 === 0 ? 1 : 0,
          new Date(received).toISOString(),
          new Date(received).toISOString(),
          new Date(received + 3_600_000).toISOString(),
          actioned ? 'actioned' : 'suspended',
          null,
          actioned ? 'removed' : null,
          actionedAt,
          actionedAt,
          late ? 1 : 0,
          actioned ? null : 'manifest_error',
          new Date(received).toISOString(),
        );
      }
    });
    seedAll();
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
    sqlite.close();
    const seedSeconds = (performance.now() - seedStart) / 1000;
    log(`seeded ${decisions} decisions and ${orders} orders in ${seedSeconds.toFixed(1)} s`);

    ctx = await AppContext.open(config);
    const period = parsePeriod('2025-01-01', '2026-01-01');
    const time = async <T>(fn: () => Promise<T>) => {
      const start = performance.now();
      const value = await fn();
      return { seconds: (performance.now() - start) / 1000, value };
    };
    // Every decision must have its fact row already (else the report would compute the missing ones first).
    const missing = await ctx.database.db
      .selectFrom('decisions as d')
      .leftJoin('decision_facts as f', 'f.decision_id', 'd.id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('f.decision_id', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(missing.n) !== 0) throw new Error(`${missing.n} decisions without facts`);
    // The grouped counts both ways in the same run: from the daily roll-up (what the report uses) and from every
    // fact row (the baseline: what the report did before the roll-up).
    const store = new TransparencyStore(ctx.database.db);
    const groupsFacts = await time(() => store.factGroupsFromFacts(platform.id, period));
    const groupsRollup = await time(() => store.factGroups(platform.id, period));
    const sum = (gs: { n: number }[]) => gs.reduce((a, g) => a + g.n, 0);
    if (
      sum(groupsFacts.value) !== sum(groupsRollup.value) ||
      groupsFacts.value.length !== groupsRollup.value.length
    )
      throw new Error('the roll-up and the fact rows disagree');
    const company = await time(() => ctx.transparency.build(platform.id, 'company', period));
    const companyAgain = await time(() => ctx.transparency.build(platform.id, 'company', period));
    const government = await time(() => ctx.transparency.build(authority.id, 'government', period));
    const html = await time(async () =>
      ctx.transparency.render(company.value as Record<string, unknown>, 'html'),
    );
    const report = company.value as { totals: { decisions: number; actioned: number } };
    log(
      `company ${company.seconds.toFixed(2)} s (again ${companyAgain.seconds.toFixed(2)} s), government ${government.seconds.toFixed(2)} s; groups ${groupsRollup.seconds.toFixed(3)} s from the roll-up, ${groupsFacts.seconds.toFixed(3)} s from the facts`,
    );
    await ctx.close();
    return {
      backend: 'sqlite',
      decisions,
      orders,
      decisions_in_report: report.totals.decisions,
      company_report_s: Math.round(company.seconds * 1000) / 1000,
      company_report_again_s: Math.round(companyAgain.seconds * 1000) / 1000,
      government_report_s: Math.round(government.seconds * 1000) / 1000,
      fact_groups_from_rollup_s: Math.round(groupsRollup.seconds * 1000) / 1000,
      fact_groups_from_facts_s: Math.round(groupsFacts.seconds * 1000) / 1000,
      fact_groups_speedup: Math.round((groupsFacts.seconds / groupsRollup.seconds) * 10) / 10,
      html_render_s: Math.round(html.seconds * 1000) / 1000,
      target_company_report_s: 5,
      seed_s: Math.round(seedSeconds * 10) / 10,
      // The machine is shared: the load average and a fixed CPU loop's time say how contended this run was
      // (the loop takes about 0.1 s on an idle core).
      load_average_1m: Math.round(loadavg()[0] * 10) / 10,
      cpu_calibration_loop_s: calibrate(),
      machine_note: '2 cores shared with other work; single run',
    };
  } finally {
    if (args.includes('--keep')) log(`kept ${dataDir}`);
    else cleanup(dataDir);
  }
}

/** Time of a fixed loop of 10^8 additions: about 0.1 s on an idle modern core. */
function calibrate(): number {
  const start = performance.now();
  let x = 0;
  for (let i = 0; i < 1e8; i++) x += i;
  if (x < 0) throw new Error('unreachable');
  return Math.round(performance.now() - start) / 1000;
}
