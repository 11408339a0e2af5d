/// <reference lib="dom" />
/**
 * Research access in a real browser: an accredited researcher signs in, submits the amplification template for the
 * private data and sees the released result as a chart with its noise summary; the budget shows the charge.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEvents } from '../../src/research/data/generator.js';
import { eventCsvHeader, eventCsvLine } from '../../src/research/data/load.js';
import { BIN, PROJECT_DIR, runCli } from '../helpers/cli.js';

const CHROMIUM = process.env.KAITIAKI_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);

describe.skipIf(!haveChromium)('research UI in a real browser', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'kaitiaki-e2e-research-')), 'data');
  let server: ChildProcess;
  let url = '';
  let browser: Browser;
  let key = '';
  let password = '';

  const call = async (method: string, path: string, body?: unknown, type = 'application/json') => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': type }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return (await response.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    key = JSON.parse((await runCli(['init', '--data-dir', dataDir, '--json'])).stdout).admin_key;
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
    const dataset = await call('POST', '/v1/research/datasets', { name: 'home-feed' });
    let csv = eventCsvHeader();
    generateEvents({ seed: 4, users: 600 }, (row) => (csv += eventCsvLine(row)));
    await call('POST', `/v1/research/datasets/${dataset.id}/events?twin=private`, csv, 'text/csv');
    await call('POST', `/v1/research/datasets/${dataset.id}/mock`, { users: 100 });
    await call('POST', '/v1/organisations', { name: 'University', kind: 'research' });
    const created = await runCli([
      'user',
      'create',
      'aroha@uni.example',
      '--role',
      'researcher',
      '-o',
      'University',
      '--data-dir',
      dataDir,
    ]);
    password = /password \(shown once\): (\S+)/.exec(created.stdout)![1];
    const session = await fetch(`${url}/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'aroha@uni.example', password }),
    });
    const userId = ((await session.json()) as { user: { id: number } }).user.id;
    const researcher = await call('POST', '/v1/research/researchers', {
      name: 'Dr Aroha Ngata',
      email: 'aroha@uni.example',
      principal: `user:${userId}`,
      accredited_until: '2099-01-01',
    });
    await call('PUT', `/v1/research/datasets/${dataset.id}/budgets/${researcher.id}`, { rho: 0.5 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
  });

  it('submits the amplification template and shows the released chart and noise', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(`${url}/ui/`);
    await page.fill('input[name=email]', 'aroha@uni.example');
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
    await page.waitForSelector('nav');
    await page.click('text=Research');
    await page.waitForSelector('textarea');
    await page.click('text=Submit for the private data');
    await page.waitForSelector('svg.chart', { timeout: 30_000 });
    expect(await page.textContent('.headline')).toMatch(/Amplification: -?\d+\.\d %/);
    await page.click('summary');
    expect(await page.textContent('.result')).toMatch(/Released with noise; cost ρ = 0.05/);
    expect(await page.textContent('.result')).toMatch(/discrete_gaussian, scale 4.472, 95 % within ±9/);
    await page.waitForFunction(() => document.body.textContent!.includes('ρ 0.050 of 0.5 spent'));
    mkdirSync(join(PROJECT_DIR, 'docs', 'screenshots'), { recursive: true });
    await page.screenshot({ path: join(PROJECT_DIR, 'docs', 'screenshots', 'research.png'), fullPage: true });
  }, 60_000);
});
