/// <reference lib="dom" />
/**
 * "Run a drill" on the crisis incidents page in a real browser (Debian's chromium via playwright-core): a
 * coordinator signed in by session submits a scenario (hub: this app, one member process), sees it running, then
 * the per-member results and a link to the exercise incident. A member of staff without crisis:coordinate sees no
 * button. Writes a screenshot only when KAITIAKI_SCREENSHOT_DIR is set.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { api, instance, stop, type Instance } from '../helpers/instances.js';

const CHROMIUM = process.env.KAITIAKI_CHROMIUM ?? '/usr/bin/chromium';
const PASSWORD = 'correct horse battery staple';

describe.skipIf(!existsSync(CHROMIUM))('running a drill from the incidents page', () => {
  let t: TestApp;
  let member: Instance;
  let browser: Browser;
  let url = '';
  let scenario = '';

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'kaitiaki-drill-ui-'));
    await sharp({ create: { width: 320, height: 240, channels: 3, background: '#406080' } })
      .composite([
        {
          input: Buffer.from(
            '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240"><circle cx="100" cy="120" r="60" fill="#e0c090"/></svg>',
          ),
        },
      ])
      .png()
      .toFile(join(root, 'frame.png'));
    t = await startTestApp('sqlite', {
      KAITIAKI_SOURCE_ALLOWED_HOSTS: '127.0.0.1',
      KAITIAKI_SOURCE_FILE_ROOT: root,
      KAITIAKI_SECURE_COOKIES: 'false',
    });
    url = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const hub = await t.organisation('Drill hub', 'admin');
    await t.ctx.users.create(hub.id, {
      email: 'lead@hub.example',
      displayName: 'Mere (crisis lead)',
      role: 'admin',
      password: PASSWORD,
    });
    await t.ctx.users.create(hub.id, {
      email: 'mod@hub.example',
      displayName: 'Moderator',
      role: 'moderator',
      password: PASSWORD,
    });
    const put = (orgId: number, body: object) =>
      t.app.inject({
        method: 'PUT',
        url: `/v1/crisis/participants/${orgId}`,
        headers: bearer(hub.key),
        payload: body,
      });
    await put(hub.id, { groups: [], roles: ['tcap_team'], contacts: [], accepts_incident_banks: false });
    const onHub = await t.organisation('Member', 'admin');
    await put(onHub.id, {
      groups: ['members'],
      roles: ['platform'],
      contacts: [],
      accepts_incident_banks: true,
    });
    const publicKey = (
      await t.app.inject({ method: 'GET', url: '/v1/sharing/instance', headers: bearer(hub.key) })
    ).json().public_key;
    member = await instance('drill-ui-e2e-member', { KAITIAKI_SOURCE_ALLOWED_HOSTS: new URL(url).host });
    await api(member.url, member.adminKey, 'POST', '/v1/subscriptions', {
      name: 'CRISIS',
      kind: 'kaitiaki-crisis',
      interval_seconds: 1,
      config: { hub_url: url, api_key: onHub.key, hub_public_key: publicKey },
    });
    await api(member.url, member.adminKey, 'PUT', '/v1/policies', {
      policies: [{ bank_id: null, label: 'crisis-active', action: 'block' }],
    });
    scenario = JSON.stringify({
      name: 'from the browser',
      hub: { url, key: hub.key },
      protocol: 'tcap',
      type: 'TIER_2',
      members: [{ name: 'member 1', url: member.url, key: member.adminKey }],
      media: { frames: ['frame.png'], frame_variants: 2, transforms: ['reencode', 'mirror'] },
      uploads: 40,
      rate_per_second: 40,
      concurrency: 4,
      hash_after_seconds: 0.3,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (member) await stop(member.child);
    await t?.ctx.drillRuns.idle();
    await t?.close();
  });

  const signIn = async (email: string) => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
    await page.goto(`${url}/ui/`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('nav', { timeout: 30_000 });
    await page.goto(`${url}/ui/#/crisis`);
    await page.getByRole('heading', { name: 'Crisis incidents' }).waitFor();
    return page;
  };

  it('shows running, then the per-member results and a link to the exercise incident', async () => {
    const page = await signIn('lead@hub.example');
    await page.getByRole('button', { name: 'Run a drill' }).click();
    const field = page.getByLabel('Scenario (JSON)');
    expect(await field.inputValue()).toContain('"protocol": "tcap"');
    // A refusal reads as the server's reason.
    await field.fill(scenario.replace('frame.png', '../elsewhere.png'));
    await page.getByRole('button', { name: 'Start the drill' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('not a file under KAITIAKI_SOURCE_FILE_ROOT');

    await field.fill(scenario);
    await page.getByRole('button', { name: 'Start the drill' }).click();
    await page.getByText(/Drill \d+ running/).waitFor();
    const table = page.getByRole('region', { name: 'Drill results per member' });
    await table.waitFor({ timeout: 30_000 });
    const row = await table.getByRole('row', { name: /member 1/ }).textContent();
    expect(row).toContain('40');
    await expect.poll(() => page.getByRole('alert').count()).toBe(0);
    if (process.env.KAITIAKI_SCREENSHOT_DIR)
      await page.screenshot({
        path: join(process.env.KAITIAKI_SCREENSHOT_DIR, 'drill-run.png'),
        fullPage: true,
      });
    await page.getByRole('link', { name: 'The exercise incident' }).click();
    await page.getByText('Drill: from the browser').first().waitFor();
  }, 60_000);

  it('offers no drill to someone who cannot coordinate', async () => {
    const page = await signIn('mod@hub.example');
    expect(await page.getByRole('button', { name: 'Run a drill' }).count()).toBe(0);
  }, 40_000);
});
