/// <reference lib="dom" />
/**
 * Feedback on shared signals in a real browser (Debian's chromium via playwright-core). A list owner (Hub list)
 * shares a bank of two PDQ signals with two platforms; an upload at SmallForum matches both and opens a case. Its
 * moderator, on the case, says one signal is a false positive (with a reason, from the keyboard; Ctrl+Enter there
 * never records the case's decision) and reads the server's refusal for the other (its owner deleted it meanwhile). The owner, on the bank page, sees who said what
 * and why; once a second platform says false positive the signal is disputed (it matches for nobody), and the owner
 * reinstates it with a reason. Every step is checked on the page and in the API. axe-core finds no WCAG 2.1 A/AA
 * violation on the case or the bank page, which reflows at 320 px. Screenshot: docs/screenshots/bank-feedback.png (the disputed signal).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { PROJECT_DIR } from '../helpers/cli.js';

const CHROMIUM = process.env.KAITIAKI_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = join(PROJECT_DIR, 'docs', 'screenshots');
const AXE = join(PROJECT_DIR, 'node_modules', 'axe-core', 'axe.min.js');
const PASSWORD = 'correct horse battery staple';
const PDQ = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const PDQ_OTHER = '0f0f1e3c78f0e1c3870f1e3c78f0e1c3a55aa55aa55aa55a5aa55aa55aa55aa5';
const REASON = 'A news broadcast still (the channel logo is in the corner), not the attack video';

/** Polls patiently: sign-in hashes a password slowly on purpose, and the machine may be busy. */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

/** The fields of the API's answers this test reads. */
interface Answer {
  id: number;
  status: string;
  verdict: string;
  case_id: number;
  matches: unknown[];
  items: unknown[];
}

interface AxeResult {
  violations: { id: string; help: string; nodes: { target: string[] }[] }[];
}

describe.skipIf(!existsSync(CHROMIUM))('feedback on shared signals in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  let url = '';
  const keys = { owner: '', forum: '', video: '' };
  let bank = 0;
  let entry = 0;
  let other = 0;
  let caseId = 0;

  const call = async (key: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return {
      status: response.status,
      json: (await response.json().catch(() => null)) as Answer,
    };
  };
  /** A call that must succeed (the seed): its body is in the failure message. */
  const ok = async (key: string, method: string, path: string, body?: unknown) => {
    const res = await call(key, method, path, body);
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.json)}`).toBeLessThan(300);
    return res.json;
  };
  const matches = async (key: string) =>
    (await ok(key, 'POST', '/v1/match', { signals: [{ type: 'pdq', value: PDQ }] })).matches.length;

  const axe = async (page: Page, screen: string) => {
    await page.addScriptTag({ content: readFileSync(AXE, 'utf8') });
    const result = (await page.evaluate(() =>
      (window as unknown as { axe: { run(o: unknown): Promise<unknown> } }).axe.run({
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
        rules: { 'target-size': { enabled: true } },
      }),
    )) as AxeResult;
    expect(result.violations.map((v) => `${screen}: ${v.id} (${v.help}) at ${v.nodes[0]?.target}`)).toEqual(
      [],
    );
  };

  const signIn = async (email: string) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${url}/ui/`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('nav', { timeout: 30_000 });
    return page;
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    t = await startTestApp('sqlite', { KAITIAKI_SECURE_COOKIES: 'false', KAITIAKI_DISPUTE_THRESHOLD: '2' });
    url = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const owner = await t.organisation('Hub list', 'admin');
    const forum = await t.organisation('SmallForum', 'admin');
    const video = await t.organisation('VideoSite', 'admin');
    keys.owner = owner.key;
    keys.forum = forum.key;
    keys.video = video.key;
    await t.ctx.users.create(owner.id, {
      email: 'lists@hub.example',
      displayName: 'Aroha (list owner)',
      role: 'admin',
      password: PASSWORD,
    });
    await t.ctx.users.create(forum.id, {
      email: 'mod@forum.example',
      displayName: 'Sam (moderator)',
      role: 'moderator',
      password: PASSWORD,
    });
    bank = (await ok(keys.owner, 'POST', '/v1/banks', { name: 'SHARED_TVEC' })).id;
    entry = (
      await ok(keys.owner, 'POST', `/v1/banks/${bank}/entries`, {
        signal_type: 'pdq',
        value: PDQ,
        labels: ['attack-video'],
      })
    ).id;
    other = (
      await ok(keys.owner, 'POST', `/v1/banks/${bank}/entries`, { signal_type: 'pdq', value: PDQ_OTHER })
    ).id;
    for (const member of [forum, video]) {
      await ok(keys.owner, 'POST', `/v1/banks/${bank}/shares`, { organisation_id: member.id });
      await ok(member.key, 'POST', `/v1/shares/incoming/${bank}/accept`, {});
    }
    // An upload at SmallForum carries both signals: one case, with two matches on the shared bank.
    const submitted = await ok(keys.forum, 'POST', '/v1/submissions', {
      external_id: 'forum-post-77',
      signals: [
        { type: 'pdq', value: PDQ },
        { type: 'pdq', value: PDQ_OTHER },
      ],
    });
    expect(submitted.verdict).toBe('queued');
    caseId = submitted.case_id;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it("lets the receiving moderator say false positive with a reason, and shows the server's refusals", async () => {
    const page = await signIn('mod@forum.example');
    await page.goto(`${url}/ui/#/cases/${caseId}`);
    await poll(() => page.locator('h1').textContent()).toContain(`Case ${caseId}`);
    const group = page.getByRole('group', { name: `Your organisation’s opinion of signal ${entry}` });
    const mine = group.getByTestId('opinion-mine');
    await poll(() => mine.textContent()).toBe(
      'Your organisation has not given an opinion of this signal yet.',
    );
    expect(await page.locator('ul.evidence').textContent()).toContain('SHARED_TVEC (shared with you)');
    expect(await page.getByRole('group', { name: /opinion of signal/ }).count()).toBe(2);

    // A decision is ready to record: Ctrl+Enter in the opinion's reason field must not record it.
    await page.getByRole('radio', { name: /^Remove/ }).check();
    await page
      .getByLabel('Reason (shown to the user in the statement of reasons)')
      .fill('Known attack video.');
    // From the keyboard: the reason, then Tab to "False positive" (after "Confirm") and Enter.
    await group.getByLabel('Reason (optional, e.g. why it is a false positive)').fill(REASON);
    await page.keyboard.press('Control+Enter');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Confirm');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('False positive');
    await page.keyboard.press('Enter');
    await poll(() => mine.textContent()).toContain(`Your organisation said False positive (“${REASON}”)`);
    expect(await group.getByTestId('opinion-counts').textContent()).toContain(
      'All organisations: 0 confirm, 1 false positive, 0 seen.',
    );
    expect(await group.getByLabel(/^Reason/).inputValue()).toBe('');
    const own = await ok(keys.forum, 'GET', `/v1/signals/${entry}/feedback`);
    expect(own).toMatchObject({
      status: 'active',
      opinions: { confirm: 0, false_positive: 1, seen: 0 },
      mine: { kind: 'false_positive', reason: REASON, source: 'api' },
    });
    // Nothing was decided on the case by any of that.
    expect((await ok(keys.forum, 'GET', `/v1/cases/${caseId}`)).status).toBe('open');

    // The owner deletes the other signal while the page is open: the server's 404 is shown, nothing is recorded.
    await ok(keys.owner, 'DELETE', `/v1/banks/${bank}/entries/${other}`);
    const gone = page.getByRole('group', { name: `Your organisation’s opinion of signal ${other}` });
    await gone.getByRole('button', { name: 'Seen' }).click();
    await poll(() => gone.getByRole('alert').textContent()).toBe(
      `Not recorded (404): signal ${other} not found`,
    );
    expect((await ok(keys.owner, 'GET', `/v1/banks/${bank}/feedback`)).items).toHaveLength(1);

    await axe(page, 'case with shared-signal feedback');
    // The bank is shared with SmallForum, not its own: its page lists the entries and no one's feedback.
    await page.goto(`${url}/ui/#/banks/${bank}`);
    await poll(() => page.locator('h1').textContent()).toContain('SHARED_TVEC');
    await page.getByRole('region', { name: 'Entries' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Feedback from organisations' }).count()).toBe(0);
    await page.close();
  }, 90_000);

  it('shows the owner who said what, the dispute at the threshold, and reinstates it', async () => {
    const page = await signIn('lists@hub.example');
    await page.goto(`${url}/ui/#/banks/${bank}`);
    await poll(() => page.locator('h1').textContent()).toContain('SHARED_TVEC');
    const section = page.getByRole('region', { name: 'Feedback from organisations' });
    const table = section.getByRole('region', { name: 'Opinions per signal' });
    const row = table.locator(`tr[data-entry-id="${entry}"]`);
    await poll(() => row.textContent()).toContain(`SmallForum: False positive — “${REASON}”`);
    // Signal | confirm | false positive | seen.
    expect(
      await row.locator('td').evaluateAll((cells) => cells.slice(0, 3).map((c) => c.textContent)),
    ).toEqual(['0', '1', '0']);
    expect(await section.textContent()).toContain('None: every signal of this bank matches as usual.');

    // A second platform says false positive: at the threshold (2) the signal is set aside for everyone.
    const second = await ok(keys.video, 'POST', `/v1/signals/${entry}/feedback`, {
      kind: 'false_positive',
      reason: 'Matches our own news clips',
    });
    expect(second.status).toBe('disputed');
    expect(await matches(keys.forum)).toBe(0);
    expect(await matches(keys.owner)).toBe(0);

    await page.reload();
    const dispute = section.getByRole('form', { name: `Signal ${entry} disputed` });
    await poll(() => dispute.textContent()).toContain('2 organisations say false positive');
    expect(await row.locator('th').textContent()).toBe(`${entry} disputed`);
    expect(await row.textContent()).toContain('VideoSite: False positive — “Matches our own news clips”');

    // A decision needs a reason: without one the browser stops it and nothing changes.
    await dispute.getByRole('button', { name: 'Reinstate' }).click();
    expect(
      await dispute
        .getByLabel('Reason for your decision (kept in the audit trail)')
        .evaluate((el) => (el as HTMLTextAreaElement).validity.valueMissing),
    ).toBe(true);
    expect((await ok(keys.owner, 'GET', `/v1/banks/${bank}/entries/${entry}`)).status).toBe('disputed');

    await dispute
      .getByLabel('Reason for your decision (kept in the audit trail)')
      .fill('Checked frame by frame: it is the attack video; the news still is a different frame.');
    await axe(page, 'bank feedback with a disputed signal');
    await page.screenshot({ path: join(SCREENSHOTS, 'bank-feedback.png'), fullPage: true });
    // Reflow: at 320 CSS pixels nothing scrolls sideways but the tables inside their own frame.
    await page.setViewportSize({ width: 320, height: 700 });
    await poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    await page.setViewportSize({ width: 1280, height: 1000 });
    await dispute.getByRole('button', { name: 'Reinstate' }).focus();
    await page.keyboard.press('Enter');
    await poll(() => section.getByRole('status').textContent()).toBe(
      `Signal ${entry} reinstated: it matches again for everyone.`,
    );
    // The lists load again after the decision.
    await poll(() => section.textContent()).toContain('None: every signal of this bank matches as usual.');
    await poll(async () => (await row.locator('th').textContent())?.trim()).toBe(String(entry));
    const entries = page.getByRole('region', { name: 'Entries' });
    await poll(() => entries.locator('tbody tr').first().textContent()).toContain('active');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('feedback-title');

    expect((await ok(keys.owner, 'GET', `/v1/banks/${bank}/entries/${entry}`)).status).toBe('active');
    expect(await matches(keys.forum)).toBe(1);
    // The decision is on the owner's audit trail, by the person who made it, with the reason typed.
    const audit = (await ok(keys.owner, 'GET', '/v1/audit?order=desc&limit=50')).items as {
      action: string;
      actor_name: string;
      detail: { decision: string; reason: string };
    }[];
    expect(audit.filter((a) => a.action === 'entry.dispute_resolve')).toMatchObject([
      { actor_name: 'Aroha (list owner)', detail: { decision: 'reinstate', reason: /frame by frame/ } },
    ]);
    await page.close();
  }, 90_000);
});
