/// <reference lib="dom" />
/**
 * In a real browser (Debian's chromium via playwright-core): a removal order's one-hour countdown in the review
 * queue, and the printable company and government report pages. Screenshots go to docs/screenshots/.
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
    await ctx.orgSettings.put(platform.id, { hosts: ['video.example'], publishReports: true });
    await ctx.orgSettings.put(authority.id, { publishReports: true });
    await ctx.close();
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
  }, 60_000);
});
