/// <reference lib="dom" />
/**
 * In a real browser (Debian's chromium via playwright-core): an authority sends a removal order through the
 * Annex I form (field errors first), the order's one-hour countdown in the review queue, a second reviewer
 * decides an appeal against a blocked upload, and the printable company, government and hub report pages.
 * Screenshots go to docs/screenshots/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config/config.js';
import { AppContext } from '../../src/context.js';
import { BIN, PROJECT_DIR, runCli } from '../helpers/cli.js';

const CHROMIUM = process.env.KAITIAKI_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = join(PROJECT_DIR, 'docs', 'screenshots');
const haveChromium = existsSync(CHROMIUM);

describe.skipIf(!haveChromium)('removal orders and reports in a real browser', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'kaitiaki-e2e-orders-')), 'data');
  let server: ChildProcess;
  let url = '';
  let browser: Browser;
  let platformId = 0;
  let authorityId = 0;
  let authorityKey = '';
  let moderatorKey = '';
  let hubId = 0;
  let appealId = 0;
  let ownAppealId = 0;

  const call = async (key: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return {
      status: response.status,
      json: (await response.json().catch(() => null)) as Record<string, unknown>,
    };
  };

  let blocked = { integrationKey: '', adminKey: '' };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    expect((await runCli(['init', '--data-dir', dataDir, '--json'])).code).toBe(0);
    // A platform with a moderator, an authority; both publish their reports.
    const ctx = await AppContext.open(readConfig({}, { dataDir }));
    const platform = await ctx.organisations.create('VideoSite', 'platform');
    const authority = await ctx.organisations.create('Bundeskriminalamt', 'authority');
    platformId = platform.id;
    authorityId = authority.id;
    authorityKey = (await ctx.apiKeys.create(authority.id, { name: 'orders', role: 'authority' })).key;
    moderatorKey = (await ctx.apiKeys.create(platform.id, { name: 'moderation', role: 'moderator' })).key;
    await ctx.users.create(platform.id, {
      email: 'mod@videosite.example',
      displayName: 'Aroha',
      role: 'moderator',
      password: 'correct horse battery staple',
    });
    await ctx.users.create(platform.id, {
      email: 'bob@videosite.example',
      displayName: 'Bob',
      role: 'moderator',
      password: 'correct horse battery staple',
    });
    await ctx.users.create(authority.id, {
      email: 'officer@bka.example',
      displayName: 'Officer Weber',
      role: 'authority',
      password: 'correct horse battery staple',
    });
    await ctx.orgSettings.put(platform.id, { hosts: ['video.example'], publishReports: true });
    await ctx.orgSettings.put(authority.id, { publishReports: true });
    // A hub sharing a bank with the platform (its report aggregates over members), publishing its report.
    const hub = await ctx.organisations.create('Signal hub', 'hub');
    hubId = hub.id;
    const hubBank = await ctx.banks.create(hub.id, { name: 'HUB-TVEC' });
    await ctx.database.db
      .insertInto('bank_shares')
      .values({
        bank_id: hubBank.id,
        org_id: platform.id,
        can_contribute: 0,
        created_at: new Date().toISOString(),
      })
      .execute();
    await ctx.orgSettings.put(hub.id, { publishReports: true });
    const integrationKey = (await ctx.apiKeys.create(platform.id, { name: 'site', role: 'integration' })).key;
    const adminKey = (await ctx.apiKeys.create(platform.id, { name: 'admin', role: 'admin' })).key;
    await ctx.close();
    blocked = { integrationKey, adminKey };
    server = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--port', '0', '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KAITIAKI_SECURE_COOKIES: 'false' },
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /serving on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      server.on('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const order = (n: number) => ({
      platform_org_id: platformId,
      reference: `BKA-2026-00${n}`,
      authority_name: 'Bundeskriminalamt',
      member_state: 'DE',
      content_types: ['a', 'c'],
      reasons: 'Glorifies the attack and calls for copycats',
      items: [{ url: `https://video.example/watch/${n}` }],
      legal_basis: 'Regulation (EU) 2021/784, Art. 3',
      signed_at: new Date(Date.now() - 120_000).toISOString(),
      signature: 'MEUCIQ...',
      redress: 'Appeal to the Verwaltungsgericht Wiesbaden within one month',
      cross_border: n % 2 === 0,
    });
    for (const n of [41, 42, 43])
      expect((await call(authorityKey, 'POST', '/v1/orders', order(n))).status).toBe(201);
    // One answered within the hour, one that cannot be executed yet; one still running.
    expect(
      (await call(moderatorKey, 'POST', '/v1/orders/1/answer', { annex: 'II', action: 'removed' })).status,
    ).toBe(200);
    expect(
      (
        await call(moderatorKey, 'POST', '/v1/orders/2/answer', {
          annex: 'III',
          ground: 'insufficient_information',
        })
      ).status,
    ).toBe(200);
    await call(authorityKey, 'POST', '/v1/referrals', {
      platform_org_id: platformId,
      reference: 'IRU-7',
      items: [{ url: 'https://video.example/watch/7' }],
      basis_cited: 'Terms 4.2',
      reasons: 'Propaganda of a proscribed group',
    });
    await call(moderatorKey, 'POST', '/v1/referrals/1/outcome', {
      outcome: 'actioned',
      basis_used: 'Terms 4.2',
    });
    // An upload blocked at once by an exact match (an automated decision), and its user's appeal.
    const bank = (
      await call(blocked.adminKey, 'POST', '/v1/banks', { name: 'OWN', default_labels: ['glorification'] })
    ).json as { id: number };
    const md5 = '9e107d9d372bb6826bd81d3542a419d6';
    await call(blocked.adminKey, 'POST', `/v1/banks/${bank.id}/entries`, { signal_type: 'md5', value: md5 });
    // The index picks the new entry up within a poll interval or two.
    for (let i = 0; ; i++) {
      const found = (
        await call(blocked.integrationKey, 'POST', '/v1/match', { signals: [{ type: 'md5', value: md5 }] })
      ).json.matches as unknown[];
      if (found.length === 1) break;
      if (i > 150) throw new Error('the md5 entry never reached the index');
      await new Promise((r) => setTimeout(r, 100));
    }
    const submitted = (
      await call(blocked.integrationKey, 'POST', '/v1/submissions', {
        external_id: 'upload-981',
        uploader_id: 'user-5521',
        content_type: 'video',
        context: { country: 'NZ', surface: 'news-channel-upload' },
        signals: [{ type: 'md5', value: md5 }],
      })
    ).json as { case_id: number; verdict: string };
    expect(submitted, JSON.stringify(submitted)).toMatchObject({ verdict: 'actioned' });
    const kase = (await call(moderatorKey, 'GET', `/v1/cases/${submitted.case_id}`)).json as {
      decisions: { id: number }[];
    };
    const appeal = await call(blocked.integrationKey, 'POST', '/v1/appeals', {
      decision_id: kase.decisions[0].id,
      appellant_id: 'user-5521',
      statement:
        'This is a clip from a TV news report about the attack, with commentary. It does not glorify it.',
    });
    expect(appeal.status).toBe(201);
    appealId = appeal.json.id as number;
    // A queued upload (a PDQ match goes to a person) that Aroha decides, signed in, and its user's appeal:
    // Aroha may not decide that appeal.
    const pdq = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
    await call(blocked.adminKey, 'POST', `/v1/banks/${bank.id}/entries`, { signal_type: 'pdq', value: pdq });
    let queued: { case_id: number; verdict: string } = { case_id: 0, verdict: '' };
    for (let i = 0; queued.verdict !== 'queued'; i++) {
      if (i > 150) throw new Error(`the pdq entry never reached the index: ${JSON.stringify(queued)}`);
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      queued = (
        await call(blocked.integrationKey, 'POST', '/v1/submissions', {
          external_id: `upload-982-${i}`,
          uploader_id: 'user-7730',
          signals: [{ type: 'pdq', value: pdq }],
        })
      ).json as { case_id: number; verdict: string };
    }
    const signIn = await fetch(`${url}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'mod@videosite.example', password: 'correct horse battery staple' }),
    });
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0];
    const csrf = ((await signIn.json()) as { csrf_token: string }).csrf_token;
    const decided = await fetch(`${url}/v1/cases/${queued.case_id}/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
      body: JSON.stringify({
        decision: 'remove',
        ground_type: 'terms',
        ground: 'Terms 4.2',
        reason: 'Glorification',
      }),
    });
    expect(decided.status).toBe(201);
    const arohaCase = (await call(moderatorKey, 'GET', `/v1/cases/${queued.case_id}`)).json as {
      decisions: { id: number }[];
    };
    const own = await call(blocked.integrationKey, 'POST', '/v1/appeals', {
      decision_id: arohaCase.decisions[0].id,
      appellant_id: 'user-7730',
      statement: 'My post quoted the manifesto only to criticise it.',
    });
    expect(own.status).toBe(201);
    ownAppealId = own.json.id as number;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
  });

  it('shows the running order with its countdown in the queue', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 700 } });
    await page.goto(`${url}/ui/`);
    await page.getByLabel('Email').fill('mod@videosite.example');
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const countdown = page.locator('time.countdown').first();
    await expect
      .poll(async () => (await countdown.textContent()) ?? '', { timeout: 15_000 })
      .toMatch(/^\d{2}:\d{2} left$/);
    const first = (await countdown.textContent())!;
    await page.waitForTimeout(1500);
    expect(await countdown.textContent()).not.toBe(first); // it ticks
    await page.screenshot({ path: join(SCREENSHOTS, 'order-countdown.png') });
  }, 60_000);

  const signIn = async (email: string, viewport = { width: 1366, height: 900 }) => {
    const page = await browser.newPage({ viewport });
    await page.goto(`${url}/ui/`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Sign in' }).click();
    return page;
  };

  it('lets an authority send a removal order through the Annex I form, with clear field errors', async () => {
    const page = await signIn('officer@bka.example', { width: 1100, height: 1400 });
    // The authority's home is its orders (it has no review queue).
    await expect
      .poll(() => page.locator('h1').textContent(), { timeout: 15_000 })
      .toBe('Removal orders and referrals');
    expect(await page.getByRole('link', { name: 'Review queue' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Send removal order' }).click();
    // Every Annex I field is named next to itself; nothing was sent.
    await expect.poll(() => page.locator('[aria-invalid=true]').count()).toBe(10); // the legal basis comes filled in
    expect(await page.getByRole('alert').first().textContent()).toContain('Please correct 10 field(s)');
    expect(await page.locator('#order-reasons-error').textContent()).toBe(
      'Statement of reasons is required by Annex I.',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'order-form-errors.png'), fullPage: true });

    await page.getByLabel('Platform (organisation id)').fill(String(platformId));
    await page.getByLabel('Order reference').fill('BKA-2026-0100');
    await page.getByLabel('Issuing authority').fill('Bundeskriminalamt');
    await page.getByLabel('Member State', { exact: true }).fill('DE');
    await page.getByLabel(/\(a\) incites/).check();
    await page.getByLabel('Content: URLs or content ids').fill('https://elsewhere.example/v/1');
    await page.getByLabel('Statement of reasons').fill('Glorifies the attack and calls for copycats.');
    await page.getByLabel('Signed at').fill('2026-01-02T09:30');
    await page.getByLabel('Electronic signature').fill('MEUCIQ-signature');
    await page
      .getByLabel('Redress information')
      .fill('Appeal to the Verwaltungsgericht Wiesbaden within one month.');
    await page.getByRole('button', { name: 'Send removal order' }).click();
    // The server's answer lands on the field it is about: content another platform hosts.
    await expect
      .poll(() => page.locator('#order-items-error').textContent(), { timeout: 10_000 })
      .toContain('is not a host of organisation');
    await page.getByLabel('Content: URLs or content ids').fill('https://video.example/watch/100');
    await page.getByRole('button', { name: 'Send removal order' }).click();
    await expect
      .poll(() => page.getByRole('status').last().textContent())
      .toContain('Order BKA-2026-0100 received');
    const row = page.getByRole('row', { name: /BKA-2026-0100/ });
    // Received a moment ago, the clock shows 1:00:00 for its first second, then minutes and seconds.
    await expect
      .poll(() => row.locator('time.countdown').textContent(), { timeout: 5_000 })
      .toMatch(/^\d{2}:\d{2} left$/);
  }, 90_000);

  it('keeps the reviewer who took the decision from deciding its appeal', async () => {
    const page = await signIn('mod@videosite.example');
    await page.goto(`${url}/ui/#/appeals/${ownAppealId}`);
    await expect
      .poll(() => page.locator('h1').textContent(), { timeout: 15_000 })
      .toContain(`Appeal ${ownAppealId}`);
    await expect
      .poll(() => page.getByRole('note').textContent())
      .toBe('You took the decision under appeal, so another reviewer must decide this appeal.');
    expect(await page.getByRole('button', { name: 'Send decision' }).count()).toBe(0);
    // The decision under appeal loads after the appeal itself.
    await expect.poll(() => page.textContent('main')).toMatch(/Decisionremove \(by Aroha/);
  }, 60_000);

  it('lets a second reviewer see the evidence and the user context and reverse an appeal, with reasons', async () => {
    const page = await signIn('bob@videosite.example', { width: 1280, height: 1000 });
    await page.getByRole('link', { name: 'Appeals' }).click();
    await page.getByRole('link', { name: `Appeal ${appealId}` }).click();
    await expect
      .poll(() => page.locator('h1').textContent(), { timeout: 15_000 })
      .toContain(`Appeal ${appealId}`);
    const body = () => page.textContent('main');
    await expect.poll(body).toContain('md5 match in bank OWN');
    expect(await body()).toContain('This is a clip from a TV news report');
    expect(await body()).toContain('news-channel-upload');
    expect(await body()).toContain('remove (automated)');
    // The reply needs reasons.
    await page.getByLabel(/Reversed/).check();
    await page.getByRole('button', { name: 'Send decision' }).click();
    expect(await page.locator('#appeal-reply-error').textContent()).toContain('10 characters or more');
    await page
      .getByLabel('Reasoned reply to the user')
      .fill('The clip is news reporting with critical commentary; it is restored.');
    await page.screenshot({ path: join(SCREENSHOTS, 'appeal-decision.png'), fullPage: true });
    await page.getByRole('button', { name: 'Send decision' }).click();
    await expect.poll(() => page.getByRole('status').last().textContent()).toContain('Reversed by');
    const decided = (await call(moderatorKey, 'GET', `/v1/appeals/${appealId}`)).json;
    expect(decided).toMatchObject({
      status: 'reversed',
      reply: 'The clip is news reporting with critical commentary; it is restored.',
    });
  }, 90_000);

  it('prints the company and government reports with their charts', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const year = 'from=2026-01-01&to=2027-01-01&format=html';
    await page.goto(`${url}/public/transparency/${platformId}/company?${year}`);
    await expect.poll(() => page.locator('svg[role=img]').count()).toBeGreaterThan(3);
    expect(await page.textContent('body')).toContain('removal_orders.received');
    await page.screenshot({ path: join(SCREENSHOTS, 'report-company.png'), fullPage: false });
    await page.goto(`${url}/public/transparency/${authorityId}/government?${year}`);
    expect(await page.textContent('h1')).toContain('government transparency report — Bundeskriminalamt');
    await page.screenshot({ path: join(SCREENSHOTS, 'report-government.png'), fullPage: false });
    await page.goto(`${url}/public/transparency/${hubId}/hub?${year}`);
    expect(await page.textContent('h1')).toContain('hub transparency report — Signal hub');
    await expect.poll(() => page.locator('svg[role=img]').count()).toBeGreaterThan(0);
    // The hub counts its member's decisions (the blocked upload, at least).
    expect(await page.textContent('body')).toMatch(/members\s*1/);
    await page.screenshot({ path: join(SCREENSHOTS, 'report-hub.png'), fullPage: false });
  }, 60_000);
});
