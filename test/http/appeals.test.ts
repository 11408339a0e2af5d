import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';
import type { FalsePositive } from '../../src/appeals/shared-signal-feedback.js';

const KNOWN = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const KNOWN_MD5 = '9e107d9d372bb6826bd81d3542a419d6';
const DAY = 24 * 3_600_000;

describe.each(TEST_DIALECTS)('appeals (%s)', (dialect) => {
  let t: TestApp;
  let platform: { id: number; key: string };
  let admin: string;
  let bankId: number;
  let md5EntryId: number;
  const people: Record<string, { label: string; headers: Record<string, string> }> = {};
  /** What the shared-signal feedback seam was told (a recording implementation of the hook). */
  const falsePositives: FalsePositive[] = [];

  const send = (
    headers: Record<string, string>,
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    payload?: object,
  ) => t.app.inject({ method, url, headers, ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    t = await startTestApp(dialect);
    t.ctx.appeals.sharedSignalFeedback = {
      falsePositive: async (fp, unit) => {
        // Inside the reversal's transaction: the appeal is not decided yet as far as anyone else can tell.
        expect(unit.db.isTransaction).toBe(true);
        falsePositives.push(fp);
      },
    };
    platform = await t.organisation('Appeal platform', 'integration');
    admin = (await t.ctx.apiKeys.create(platform.id, { name: 'admin', role: 'admin' })).key;
    bankId = (
      await send(bearer(admin), 'POST', '/v1/banks', { name: 'OWN', default_labels: ['glorification'] })
    ).json().id;
    await send(bearer(admin), 'POST', `/v1/banks/${bankId}/entries`, { signal_type: 'pdq', value: KNOWN });
    md5EntryId = (
      await send(bearer(admin), 'POST', `/v1/banks/${bankId}/entries`, {
        signal_type: 'md5',
        value: KNOWN_MD5,
      })
    ).json().id;
    for (const name of ['alice', 'bob']) {
      const user = await t.ctx.users.create(platform.id, {
        email: `${name}@platform.example`,
        role: 'moderator',
      });
      const { token, session } = await t.ctx.sessions.create(user);
      people[name] = {
        label: `user:${user.id}`,
        headers: { cookie: `kaitiaki_session=${token}`, 'x-csrf-token': session.csrfToken },
      };
    }
  });
  afterAll(async () => t.close());

  /** A submission by `uploader`; md5 is blocked at upload (automated), pdq goes to the queue. */
  async function decided(externalId: string, uploader: string, kind: 'md5' | 'pdq') {
    const submitted = (
      await send(bearer(platform.key), 'POST', '/v1/submissions', {
        external_id: externalId,
        uploader_id: uploader,
        signals: [{ type: kind, value: kind === 'md5' ? KNOWN_MD5 : KNOWN }],
      })
    ).json();
    if (kind === 'pdq')
      await send(people.alice.headers, 'POST', `/v1/cases/${submitted.case_id}/decision`, {
        decision: 'remove',
        ground_type: 'terms',
        ground: 'Terms 4.2',
        reason: 'Glorification of an attack',
      });
    const [decision] = await t.ctx.review.decisions(platform.id, submitted.case_id);
    const statement = await t.ctx.database.db
      .selectFrom('statements')
      .select(['id', 'body'])
      .where('decision_id', '=', decision.id)
      .executeTakeFirstOrThrow();
    return {
      caseId: submitted.case_id as number,
      decision,
      statementId: statement.id,
      body: JSON.parse(statement.body),
    };
  }

  it('lets the affected user appeal a blocked upload through the signed link, and a person reverse it', async () => {
    const d = await decided('blocked-1', 'uploader-1', 'md5');
    expect(d.decision.decided_by).toBe('system:policy');
    expect(d.body.appeal_token).toEqual(expect.any(String));

    const forged = await send({}, 'POST', '/v1/appeals/by-link', {
      token: d.body.appeal_token.slice(0, -2) + 'xx',
      statement: 'mine',
    });
    expect(forged.statusCode).toBe(403);
    const filed = await send({}, 'POST', '/v1/appeals/by-link', {
      token: d.body.appeal_token,
      statement: 'This is a news report about the attack.',
    });
    expect(filed.statusCode).toBe(201);
    const appeal = filed.json();
    expect(appeal).toMatchObject({
      channel: 'link',
      appellant_id: 'uploader-1',
      status: 'open',
      automated_detection: true,
    });
    expect(new Date(appeal.due_at).getTime() - new Date(appeal.filed_at).getTime()).toBe(14 * DAY);
    expect(
      (
        await send({}, 'POST', '/v1/appeals/by-link', { token: d.body.appeal_token, statement: 'again' })
      ).json().code,
    ).toBe('KAI_ERR_APPEAL_EXISTS');

    // Machines do not decide appeals.
    const byKey = await send(bearer(admin), 'POST', `/v1/appeals/${appeal.id}/decision`, {
      outcome: 'reversed',
      reply: 'Reversed on review of context.',
    });
    expect(byKey.json().code).toBe('KAI_ERR_APPEAL_NEEDS_PERSON');
    const reversed = await send(people.bob.headers, 'POST', `/v1/appeals/${appeal.id}/decision`, {
      outcome: 'reversed',
      reply: 'The video is part of a news report; restored.',
    });
    expect(reversed.statusCode).toBe(200);
    expect(reversed.json()).toMatchObject({ status: 'reversed', decided_by: people.bob.label });

    const restore = await t.ctx.database.db
      .selectFrom('actions')
      .selectAll()
      .where('id', '=', reversed.json().restore_action_id)
      .executeTakeFirstOrThrow();
    expect(restore.type).toBe('content.restore');
    expect(JSON.parse(restore.payload).content).toEqual({
      external_id: 'blocked-1',
      uploader_id: 'uploader-1',
    });
    const statement = (await send(bearer(admin), 'GET', `/v1/statements/${d.statementId}`)).json();
    expect(statement.correction).toMatchObject({ reversed: true, appeal_id: appeal.id });
    const reversals = await t.ctx.database.db
      .selectFrom('bank_reversals')
      .selectAll()
      .where('appeal_id', '=', appeal.id)
      .execute();
    expect(reversals.map((r) => [r.bank_id, r.entry_id])).toEqual([[bankId, md5EntryId]]);
    // The platform's own bank was wrong: no dispute goes to anyone else.
    expect(falsePositives).toEqual([]);
  });

  it('files a false-positive dispute through the seam when a shared signal caused the reversed decision', async () => {
    // A hub shares its bank with the platform, which accepts it (matches go to review).
    const hub = await t.organisation('Signal hub', 'integration');
    const hubAdmin = (await t.ctx.apiKeys.create(hub.id, { name: 'hub admin', role: 'admin' })).key;
    const hubBank = (
      await send(bearer(hubAdmin), 'POST', '/v1/banks', { name: 'HUB', sharing: 'shared' })
    ).json();
    const sharedMd5 = 'e4d909c290d0fb1ca068ffaddf22cbd0';
    const entry = (
      await send(bearer(hubAdmin), 'POST', `/v1/banks/${hubBank.id}/entries`, {
        signal_type: 'md5',
        value: sharedMd5,
      })
    ).json();
    await send(bearer(hubAdmin), 'POST', `/v1/banks/${hubBank.id}/shares`, { organisation_id: platform.id });
    expect(
      (await send(bearer(admin), 'POST', `/v1/shares/incoming/${hubBank.id}/accept`, {})).statusCode,
    ).toBe(200);
    const submitted = (
      await send(bearer(platform.key), 'POST', '/v1/submissions', {
        external_id: 'shared-1',
        uploader_id: 'uploader-shared',
        signals: [{ type: 'md5', value: sharedMd5 }],
      })
    ).json();
    expect(submitted.case_id).toEqual(expect.any(Number));
    if (submitted.verdict !== 'actioned')
      await send(people.alice.headers, 'POST', `/v1/cases/${submitted.case_id}/decision`, {
        decision: 'remove',
        ground_type: 'terms',
        ground: 'Terms 4.2',
        reason: 'Matches the hub list',
      });
    const [decision] = await t.ctx.review.decisions(platform.id, submitted.case_id);
    const filed = await send(bearer(platform.key), 'POST', '/v1/appeals', {
      decision_id: decision.id,
      appellant_id: 'uploader-shared',
      statement: 'This is a museum exhibit photo.',
    });
    expect(filed.statusCode).toBe(201);
    // Upheld: no dispute. (A second appeal is filed below for the reversal.)
    const upheld = await send(people.bob.headers, 'POST', `/v1/appeals/${filed.json().id}/decision`, {
      outcome: 'upheld',
      reply: 'The photo is the attack video still; removal stands.',
    });
    expect(upheld.statusCode).toBe(200);
    expect(falsePositives).toEqual([]);
    const again = await send(bearer(platform.key), 'POST', '/v1/appeals', {
      decision_id: decision.id,
      appellant_id: 'uploader-shared',
      statement: 'Here is the museum catalogue entry.',
    });
    const reversed = await send(people.bob.headers, 'POST', `/v1/appeals/${again.json().id}/decision`, {
      outcome: 'reversed',
      reply: 'A museum photo, not the attack video; restored.',
    });
    expect(reversed.statusCode).toBe(200);
    expect(falsePositives).toEqual([
      {
        appealId: again.json().id,
        orgId: platform.id,
        decisionId: decision.id,
        caseId: submitted.case_id,
        bankId: hubBank.id,
        entryId: entry.id,
        bankOrgId: hub.id,
        reason: 'A museum photo, not the attack video; restored.',
        at: reversed.json().decided_at,
      },
    ]);
    falsePositives.length = 0;
  });

  it('refuses an appeal by someone not affected, and one out of the window', async () => {
    const d = await decided('queued-1', 'uploader-2', 'pdq');
    const stranger = await send(bearer(platform.key), 'POST', '/v1/appeals', {
      decision_id: d.decision.id,
      appellant_id: 'someone-else',
      statement: 'x',
    });
    expect(stranger.statusCode).toBe(403);
    expect(stranger.json().code).toBe('KAI_ERR_APPEAL_NOT_AFFECTED');

    t.ctx.appeals.now = () => new Date(Date.now() + 184 * DAY);
    try {
      const late = await send(bearer(platform.key), 'POST', '/v1/appeals', {
        statement_id: d.statementId,
        appellant_id: 'uploader-2',
        statement: 'x',
      });
      expect(late.statusCode).toBe(409);
      expect(late.json().code).toBe('KAI_ERR_APPEAL_OUT_OF_WINDOW');
      // A longer window, set by the organisation, lets it through.
      await send(bearer(admin), 'PUT', '/v1/settings/recourse', { appeal_window_days: 365 });
      const inWindow = await send(bearer(platform.key), 'POST', '/v1/appeals', {
        statement_id: d.statementId,
        appellant_id: 'uploader-2',
        statement: 'x',
      });
      expect(inWindow.statusCode).toBe(201);
    } finally {
      t.ctx.appeals.now = () => new Date();
      await send(bearer(admin), 'PUT', '/v1/settings/recourse', { appeal_window_days: 183 });
    }
  });

  it('keeps the original reviewer off the appeal, lists overdue appeals, and upholds with reasons', async () => {
    const d = await decided('queued-2', 'uploader-3', 'pdq');
    expect(d.decision.decided_by).toBe(people.alice.label);
    const appeal = (
      await send(bearer(platform.key), 'POST', '/v1/appeals', {
        decision_id: d.decision.id,
        appellant_id: 'uploader-3',
        statement: 'Satire',
      })
    ).json();
    expect(appeal.automated_detection).toBe(true);
    const own = await send(people.alice.headers, 'POST', `/v1/appeals/${appeal.id}/decision`, {
      outcome: 'reversed',
      reply: 'I was wrong about this one.',
    });
    expect(own.statusCode).toBe(403);
    expect(own.json().code).toBe('KAI_ERR_APPEAL_OWN_DECISION');
    expect(
      (
        await send(bearer(admin), 'POST', `/v1/appeals/${appeal.id}/assign`, { assignee: people.alice.label })
      ).json().code,
    ).toBe('KAI_ERR_APPEAL_OWN_DECISION');
    expect(
      (
        await send(bearer(admin), 'POST', `/v1/appeals/${appeal.id}/assign`, { assignee: people.bob.label })
      ).json().assignee,
    ).toBe(people.bob.label);

    t.ctx.appeals.now = () => new Date(Date.now() + 15 * DAY);
    try {
      const overdue = (await send(bearer(admin), 'GET', '/v1/appeals?overdue=true')).json().items as {
        id: number;
        overdue: boolean;
      }[];
      expect(overdue.map((a) => a.id)).toEqual([appeal.id]);
      expect(overdue[0].overdue).toBe(true);
    } finally {
      t.ctx.appeals.now = () => new Date();
    }
    expect((await send(bearer(admin), 'GET', '/v1/appeals?overdue=true')).json().items).toEqual([]);
    const short = await send(people.bob.headers, 'POST', `/v1/appeals/${appeal.id}/decision`, {
      outcome: 'upheld',
      reply: 'no',
    });
    expect(short.statusCode).toBe(400);
    const upheld = await send(people.bob.headers, 'POST', `/v1/appeals/${appeal.id}/decision`, {
      outcome: 'upheld',
      reply: 'The clip glorifies the attacker; no news context.',
    });
    expect(upheld.json()).toMatchObject({ status: 'upheld', restore_action_id: null });
  });

  it('reveals nothing while a non-disclosure applies to the removal', async () => {
    const authorityOrg = await t.ctx.organisations.create('Appeal authority', 'authority');
    const authorityKey = (await t.ctx.apiKeys.create(authorityOrg.id, { name: 'k', role: 'authority' })).key;
    await send(bearer(platform.key), 'POST', '/v1/submissions', {
      external_id: 'ordered-1',
      uploader_id: 'uploader-4',
      signals: [{ type: 'pdq', value: KNOWN.slice(0, 62) + '00' }],
    });
    const order = (
      await send(bearer(authorityKey), 'POST', '/v1/orders', {
        platform_org_id: platform.id,
        reference: 'ND-1',
        authority_name: 'Authority',
        member_state: 'FR',
        content_types: ['a'],
        reasons: 'Incitement',
        items: [{ external_id: 'ordered-1' }],
        legal_basis: 'Regulation (EU) 2021/784, Art. 3',
        signed_at: new Date(Date.now() - 60_000).toISOString(),
        signature: 'sig',
        redress: 'Court within one month',
        non_disclosure_until: new Date(Date.now() + 7 * DAY).toISOString(),
      })
    ).json();
    const moderator = (await t.ctx.apiKeys.create(platform.id, { name: 'mod', role: 'moderator' })).key;
    expect(
      (
        await send(bearer(moderator), 'POST', `/v1/orders/${order.id}/answer`, {
          annex: 'II',
          action: 'removed',
        })
      ).statusCode,
    ).toBe(200);
    const [decision] = await t.ctx.review.decisions(platform.id, order.case_id);
    const hidden = await send(bearer(platform.key), 'POST', '/v1/appeals', {
      decision_id: decision.id,
      appellant_id: 'uploader-4',
      statement: 'why?',
    });
    const missing = await send(bearer(platform.key), 'POST', '/v1/appeals', {
      decision_id: 999_999,
      appellant_id: 'uploader-4',
      statement: 'why?',
    });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json()).toEqual({
      ...missing.json(),
      detail: hidden.json().detail,
      message: hidden.json().message,
    });
    expect(hidden.json().detail.replace(String(decision.id), 'N')).toBe(
      missing.json().detail.replace('999999', 'N'),
    );
  });
});
