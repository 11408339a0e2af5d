/// <reference lib="dom" />
/**
 * End to end in a real browser (Debian's chromium driven by playwright-core; no browser is downloaded): a
 * moderator signs in, sees a matched submission in the queue, reveals the blurred media, decides with the
 * keyboard, and the platform's webhook receiver gets the signed action; the statement of reasons and the audit
 * record exist. Screenshots of the main screens go to docs/screenshots/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/actions/webhooks.js';
import { BIN, PROJECT_DIR, runCli } from '../helpers/cli.js';
import { PDQ_DATA } from '../helpers/shared.js';

const CHROMIUM = process.env.KAITIAKI_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = join(PROJECT_DIR, 'docs', 'screenshots');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (process.env.CI === 'true')
    throw new Error(`CI=true but ${CHROMIUM} is missing (apt-get install chromium)`);
  console.warn(`[kaitiaki tests] skipping browser tests: ${CHROMIUM} not found (apt-get install chromium)`);
}

/** Polls patiently: the machine running these tests may be busy (sign-in hashes a password, on purpose slowly). */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

describe.skipIf(!haveChromium)('review UI in a real browser', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'kaitiaki-e2e-')), 'data');
  let server: ChildProcess;
  let url = '';
  let browser: Browser;
  let key = '';
  let secret = '';
  const deliveries: { headers: Record<string, unknown>; body: string }[] = [];
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body instanceof FormData || body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body instanceof FormData ? body : body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: response.status,
      json: (await response.json().catch(() => null)) as Record<string, unknown>,
    };
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    key = JSON.parse((await runCli(['init', '--data-dir', dataDir, '--json'])).stdout).admin_key;
    server = spawn(process.execPath, [BIN, 'serve', '--data-dir', dataDir, '--port', '0', '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KAITIAKI_SECURE_COOKIES: 'false', KAITIAKI_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' },
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
    // The platform: a bank with a known photo's hash, a webhook, a moderator account, and a matching upload.
    const bank = await call('POST', '/v1/banks', { name: 'KNOWN_TVEC', default_labels: ['glorification'] });
    await call('POST', `/v1/banks/${bank.json.id}/entries`, {
      signal_type: 'pdq',
      value: 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22',
    });
    secret = String(
      (
        await call('POST', '/v1/webhooks', {
          url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/actions`,
        })
      ).json.secret,
    );
    await call('POST', '/v1/users', {
      email: 'moderator@platform.example',
      display_name: 'Aroha (moderator)',
      role: 'moderator',
      password: 'correct horse battery staple',
    });
    const form = new FormData();
    form.append('external_id', 'post-8841');
    form.append('uploader_id', 'user-12');
    form.append(
      'file',
      new Blob([readFileSync(join(PDQ_DATA, 'images', 'bridge-mods', 'sharpen-a-little.jpg'))]),
      'upload.jpg',
    );
    const submitted = await call('POST', '/v1/submissions', form);
    expect(submitted.json).toMatchObject({ verdict: 'queued' });
    await call('POST', '/v1/alerts', {
      url: 'https://video.example/watch?v=123',
      source: 'tcap',
      group: 'Example group',
      category: 'far-right',
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
    receiver.close();
  });

  it('signs in, reviews a matched submission, decides with the keyboard, and the platform gets the action', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
    await page.goto(`${url}/ui/`);
    await page.getByLabel('Email').fill('moderator@platform.example');
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.screenshot({ path: join(SCREENSHOTS, 'sign-in.png') });
    await page.getByRole('button', { name: 'Sign in' }).click();

    await poll(() => page.getByRole('heading', { name: 'Review queue' }).isVisible()).toBe(true);
    const row = page.getByRole('row', { name: /post-8841/ });
    await poll(() => row.isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: /Open/ }).textContent()).toMatch(/2/);
    await page.screenshot({ path: join(SCREENSHOTS, 'queue.png') });
    await row.getByRole('link').click();

    const media = page.getByTestId('case-media');
    await poll(() => media.isVisible()).toBe(true);
    expect(await media.evaluate((img) => getComputedStyle(img).filter)).toMatch(
      /blur\(24px\) grayscale\(1\)/,
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'case-blurred.png') });
    await page.getByRole('button', { name: /Reveal media/ }).click();
    expect(await media.evaluate((img) => getComputedStyle(img).filter)).toBe('none');
    await page.keyboard.press('v'); // the shortcut blurs it again
    expect(await media.evaluate((img) => getComputedStyle(img).filter)).toMatch(/blur/);
    expect(await page.getByText(/Matched bank KNOWN_TVEC/).textContent()).toMatch(/glorification/);

    await page.keyboard.press('s'); // restrict
    expect(await page.getByRole('radio', { name: /Restrict/ }).isChecked()).toBe(true);
    await page.keyboard.press('r'); // remove
    await page
      .getByLabel('Reason (shown to the user in the statement of reasons)')
      .fill('A copy of a known terrorist propaganda image.');
    await page.screenshot({ path: join(SCREENSHOTS, 'case-decide.png') });
    await page.keyboard.press('Control+Enter');
    const notice = page.getByRole('status');
    await poll(() => notice.isVisible()).toBe(true);
    const statementId = /statement of reasons ([0-9a-f-]{36})/.exec((await notice.textContent()) ?? '')?.[1];
    expect(statementId).toBeDefined();

    // The signed action reaches the platform.
    await poll(() => deliveries.length).toBeGreaterThanOrEqual(1);
    const [delivery] = deliveries;
    expect(verifySignature(secret, delivery.body, String(delivery.headers['kaitiaki-signature']))).toBe(true);
    expect(JSON.parse(delivery.body)).toMatchObject({
      type: 'content.remove',
      content: { external_id: 'post-8841', uploader_id: 'user-12' },
      statement_id: statementId,
    });

    // The statement of reasons and the audit record.
    const statement = await call('GET', `/v1/statements/${statementId}`);
    expect(statement.json).toMatchObject({
      decision_visibility: ['DECISION_VISIBILITY_CONTENT_REMOVED'],
      automated_detection: 'Yes',
      automated_decision: 'AUTOMATED_DECISION_PARTIALLY',
    });
    const trail = await call('GET', '/v1/audit?limit=1000');
    const decided = (trail.json.items as { action: string; actor: string }[]).find(
      (r) => r.action === 'case.decide',
    );
    expect(decided?.actor).toMatch(/^user:\d+$/);

    await page.goto(`${url}/ui/#/queue`);
    await poll(() => page.getByRole('row', { name: /video\.example/ }).isVisible()).toBe(true);
    await page.getByRole('link', { name: 'Banks' }).click();
    await poll(() => page.getByRole('cell', { name: 'KNOWN_TVEC' }).isVisible()).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'banks.png') });
    await page.getByRole('link', { name: 'KNOWN_TVEC' }).click();
    await poll(() => page.getByRole('cell', { name: 'pdq' }).isVisible()).toBe(true);
    expect(await page.getByRole('cell', { name: 'glorification' }).count()).toBe(1);
    await page.close();
  }, 60_000);

  it('an administrator sees keys, webhook deliveries and the audit trail; a viewer sees no media', async () => {
    await call('POST', '/v1/users', {
      email: 'admin@platform.example',
      role: 'admin',
      password: 'another long passphrase',
    });
    await call('POST', '/v1/users', {
      email: 'viewer@platform.example',
      role: 'viewer',
      password: 'a third long passphrase',
    });
    const page = await browser.newPage({ viewport: { width: 1366, height: 800 } });
    await page.goto(`${url}/ui/`);
    await page.getByLabel('Email').fill('admin@platform.example');
    await page.getByLabel('Password').fill('another long passphrase');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await poll(() =>
      page
        .getByText(/delivered \(204\)/)
        .first()
        .isVisible(),
    ).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'webhooks.png') });
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await poll(() => page.getByRole('cell', { name: 'case.decide' }).isVisible()).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'audit.png') });
    await page.getByRole('link', { name: 'API keys' }).click();
    await poll(() => page.getByRole('cell', { name: /kaitiaki init/ }).isVisible()).toBe(true);
    await page.getByLabel('Name').fill('second platform client');
    await page.getByRole('button', { name: 'Create key' }).click();
    await poll(() => page.getByTestId('new-key').isVisible()).toBe(true);
    expect(await page.getByTestId('new-key').textContent()).toMatch(/^kt_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{32}$/);
    await poll(() => page.getByRole('cell', { name: 'second platform client' }).isVisible()).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'keys.png') });
    await page.getByRole('button', { name: 'Sign out' }).click();

    await page.getByLabel('Email').fill('viewer@platform.example');
    await page.getByLabel('Password').fill('a third long passphrase');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: /Decided/ }).click();
    await page
      .getByRole('row', { name: /post-8841/ })
      .getByRole('link')
      .click();
    await poll(() => page.getByText('Your role may not see media.').isVisible()).toBe(true);
    expect(await page.getByTestId('case-media').count()).toBe(0);
    expect(await page.getByRole('button', { name: /Record decision/ }).count()).toBe(0);
    await page.close();
  }, 60_000);
});
