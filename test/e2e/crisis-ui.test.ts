/// <reference lib="dom" />
/**
 * The crisis page in a real browser (Debian's chromium via playwright-core). A hub coordinates an incident under
 * two protocols (GIFCT 2021 activated with criteria and two decisions; TCAP still assessing), its incident bank
 * holds three PDQ hashes of two items, two members report their numbers per minute. The coordinator sees states,
 * numbers, the per-minute chart and the evidence, moves an activation through the UI and reads the server's
 * 409/400 refusals; the page picks up changes by itself. An observer sees the same record without evidence or
 * bank, with the observer note. axe-core finds no WCAG 2.1 A/AA violation on either.
 * Screenshots: docs/screenshots/crisis-page.png, crisis-observer.png and crisis-report.png (after-action report).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config/config.js';
import { AppContext } from '../../src/context.js';
import { BIN, PROJECT_DIR, runCli } from '../helpers/cli.js';

const CHROMIUM = process.env.KAITIAKI_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = join(PROJECT_DIR, 'docs', 'screenshots');
const AXE = join(PROJECT_DIR, 'node_modules', 'axe-core', 'axe.min.js');
const PASSWORD = 'correct horse battery staple';
const haveChromium = existsSync(CHROMIUM);

/** Polls patiently: sign-in hashes a password slowly on purpose, and the machine may be busy. */
const poll = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 15_000 });

const HR = {
  necessity: 'Perpetrator video is spreading on member platforms within the hour.',
  proportionality: 'Hashes only of the attack video and its frames; each member acts under its own terms.',
  scope: 'Perpetrator-produced content; bystander footage excluded.',
  bystander_content: false,
};
const EVIDENCE = 'https://video.example/watch/attack-1';
/** Two near-identical PDQ hashes (one picture re-encoded) and an unrelated one: 2 distinct items, 3 hashes. */
const PDQ = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const PDQ_NEAR = PDQ.slice(0, 60) + '0000';
const PDQ_OTHER = '0f0f1e3c78f0e1c3870f1e3c78f0e1c3a55aa55aa55aa55a5aa55aa55aa55aa5';

interface AxeResult {
  violations: { id: string; help: string; nodes: { target: string[] }[] }[];
}

/** `YYYY-MM-DDTHH:MM` of a UTC minute `ago` minutes back. */
const minuteAgo = (ago: number) => new Date(Date.now() - ago * 60_000).toISOString().slice(0, 16);

describe.skipIf(!haveChromium)('crisis page in a real browser', () => {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'kaitiaki-e2e-crisis-')), 'data');
  let server: ChildProcess;
  let url = '';
  let browser: Browser;
  const keys = { hub: '', memberA: '', memberAModerator: '', memberB: '' };
  let memberAId = 0;
  let incidentId = 0;
  let gifct = 0;
  let tcap = 0;

  const call = async (key: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await response.json().catch(() => null)) as Record<string, unknown>;
    return { status: response.status, json };
  };
  /** A call that must succeed (the seed): its body is in the failure message. */
  const ok = async (key: string, method: string, path: string, body?: unknown) => {
    const res = await call(key, method, path, body);
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.json)}`).toBeLessThan(300);
    return res.json;
  };

  const axe = async (page: Page, screen: string) => {
    if (!(await page.evaluate(() => 'axe' in window)))
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
    expect((await runCli(['init', '--data-dir', dataDir, '--json'])).code).toBe(0);
    const ctx = await AppContext.open(readConfig({}, { dataDir }));
    const hub = await ctx.organisations.create('Crisis hub', 'hub');
    const memberA = await ctx.organisations.create('VideoSite', 'platform');
    const memberB = await ctx.organisations.create('SmallForum', 'platform');
    const observer = await ctx.organisations.create('Advisory network', 'civil-society');
    memberAId = memberA.id;
    keys.hub = (await ctx.apiKeys.create(hub.id, { name: 'hub', role: 'admin' })).key;
    keys.memberA = (await ctx.apiKeys.create(memberA.id, { name: 'site', role: 'integration' })).key;
    keys.memberAModerator = (await ctx.apiKeys.create(memberA.id, { name: 'mod', role: 'moderator' })).key;
    keys.memberB = (await ctx.apiKeys.create(memberB.id, { name: 'site', role: 'integration' })).key;
    await ctx.users.create(hub.id, {
      email: 'lead@hub.example',
      displayName: 'Mere (crisis lead)',
      role: 'admin',
      password: PASSWORD,
    });
    await ctx.users.create(memberA.id, {
      email: 'oncall@videosite.example',
      displayName: 'Tama (on call)',
      role: 'moderator',
      password: PASSWORD,
    });
    await ctx.users.create(observer.id, {
      email: 'observer@advisory.example',
      displayName: 'Observer Ana',
      role: 'observer',
      password: PASSWORD,
    });
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

    // The hub's network: itself (deciding roles), two members (A also on the board), an advisory observer.
    const join = (orgId: number, body: object) =>
      ok(keys.hub, 'PUT', `/v1/crisis/participants/${orgId}`, body);
    await join(hub.id, {
      groups: [],
      roles: ['operating_board', 'secretariat', 'tcap_team'],
      contacts: [],
      accepts_incident_banks: false,
    });
    await join(memberA.id, {
      groups: ['members'],
      roles: ['operating_board', 'member'],
      contacts: [{ name: 'A on call', email: 'oncall@videosite.example' }],
      accepts_incident_banks: true,
      incident_policy: 'block',
    });
    await join(memberB.id, {
      groups: ['members'],
      roles: ['member'],
      contacts: [{ name: 'B desk', email: 'desk@smallforum.example' }],
      accepts_incident_banks: true,
      incident_policy: 'block',
    });
    await join(observer.id, {
      groups: ['advisory_network'],
      roles: ['advisory_committee'],
      contacts: [{ name: 'IAC', email: 'iac@advisory.example' }],
      accepts_incident_banks: false,
    });

    const incident = await ok(keys.hub, 'POST', '/v1/crisis/incidents', {
      title: 'Attack streamed live',
      summary: 'A livestream of an attack is circulating on several platforms.',
      zone: 'Pacific/Auckland',
      countries: ['NZ'],
      occurred_at: new Date(Date.now() - 30 * 60_000).toISOString(),
      protocols: ['gifct-2021', 'tcap'],
    });
    incidentId = incident.id as number;
    [gifct, tcap] = (incident.activations as { id: number }[]).map((a) => a.id);
    // An exercise, which must never show among real incidents.
    await ok(keys.hub, 'POST', '/v1/crisis/incidents', {
      title: 'Tabletop drill: stadium',
      exercise: true,
      protocols: ['gifct-2021'],
    });

    const move = (id: number, body: object) =>
      ok(keys.hub, 'POST', `/v1/crisis/activations/${id}/transitions`, body);
    await move(gifct, { to: 'assessing', reason: 'Video reported by two members' });
    await move(tcap, { to: 'assessing', reason: 'Triage by the TCAP team', zone: 'Europe/Berlin' });
    for (const criterion of [
      'ongoing_event',
      'perpetrator_or_accomplice_video',
      'depicts_murder_or_attempt',
      'on_member_platform_or_spread_inevitable',
    ])
      await ok(keys.hub, 'POST', `/v1/crisis/activations/${gifct}/criteria`, {
        criterion,
        met: true,
        evidence: [EVIDENCE],
      });
    const decision = {
      type: 'CONTENT_INCIDENT_PROTOCOL',
      rationale: 'All four criteria met; the video is spreading.',
      human_rights: HR,
    };
    await ok(keys.hub, 'POST', `/v1/crisis/activations/${gifct}/decisions`, decision);
    await ok(keys.memberAModerator, 'POST', `/v1/crisis/activations/${gifct}/decisions`, decision);
    const active = await move(gifct, {
      to: 'active',
      reason: 'Operating board decision',
      type: 'CONTENT_INCIDENT_PROTOCOL',
    });
    const bankId = active.bank_id as number;
    for (const value of [PDQ, PDQ_NEAR, PDQ_OTHER])
      await ok(keys.hub, 'POST', `/v1/banks/${bankId}/entries`, { signal_type: 'pdq', value });

    // Members' numbers for the last eight minutes: A blocks most of what matches, B less.
    const minutes = (scale: number) =>
      [8, 7, 6, 5, 4, 3, 2, 1].map((ago, i) => ({
        minute: minuteAgo(ago),
        matches: (i + 2) * scale,
        blocks: (i + 1) * scale,
      }));
    await ok(keys.memberA, 'POST', `/v1/crisis/incidents/${incidentId}/telemetry`, {
      minutes: minutes(3),
      first_block_at: new Date(Date.now() - 8 * 60_000).toISOString(),
    });
    await ok(keys.memberB, 'POST', `/v1/crisis/incidents/${incidentId}/telemetry`, {
      minutes: minutes(1),
      first_block_at: new Date(Date.now() - 6 * 60_000).toISOString(),
    });
    await ok(keys.hub, 'POST', `/v1/crisis/incidents/${incidentId}/updates`, {
      text: 'Incident bank open; members blocking at upload.',
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
  });

  it('lists real incidents and exercises apart', async () => {
    const page = await signIn('lead@hub.example');
    await page.getByRole('link', { name: 'Crisis' }).click();
    await poll(() => page.locator('h1').textContent()).toBe('Crisis incidents');
    const rows = page.locator('main tbody tr');
    await poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('Attack streamed live');
    expect(await rows.first().textContent()).toContain('live');
    expect(await page.textContent('main')).not.toContain('Tabletop drill');
    await page.getByRole('button', { name: 'Exercises' }).click();
    await poll(() => rows.first().textContent()).toContain('Tabletop drill: stadium');
    expect(await rows.first().textContent()).toContain('EXERCISE');
    expect(await page.textContent('main')).not.toContain('Attack streamed live');
    // An exercise's page says so, in its heading and a banner.
    await page.getByRole('link', { name: 'Tabletop drill: stadium' }).click();
    await poll(() => page.locator('h1').textContent()).toBe('EXERCISE Tabletop drill: stadium');
    expect(await page.textContent('.exercise-banner')).toContain('This is an exercise');
    await page.close();
  }, 60_000);

  it('shows the coordinator states, numbers, chart and evidence, and moves an activation', async () => {
    const page = await signIn('lead@hub.example');
    await page.goto(`${url}/ui/#/crisis/${incidentId}`);
    await poll(() => page.locator('h1').textContent()).toBe('Attack streamed live');
    const gifctSection = page.locator('section.activation', { hasText: 'GIFCT Incident Response Framework' });
    const tcapSection = page.locator('section.activation', { hasText: 'Terrorist Content Analytics' });
    expect(await gifctSection.locator('[aria-current=step]').textContent()).toBe('Active (current state)');
    expect(await tcapSection.locator('[aria-current=step]').textContent()).toBe('Assessing (current state)');
    expect(await gifctSection.locator('ol.steps li.done').count()).toBe(2);
    // Transition times in the incident's zone (NZ: +12:00 or +13:00); one recorded from Berlin says so too.
    const history = gifctSection.getByRole('region', { name: /^Transitions/ });
    expect(await history.locator('th').first().textContent()).toBe('When (Pacific/Auckland)');
    expect(await history.locator('tbody tr').last().textContent()).toMatch(
      /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+1[23]:00Assessing → Active/,
    );
    expect(await tcapSection.getByRole('region', { name: /^Transitions/ }).textContent()).toMatch(
      /\+1[23]:00recorded in Europe\/Berlin: \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \+0[12]:00Awareness → Assessing/,
    );
    expect(await page.getByTestId('distinct-items').textContent()).toBe('2');
    expect(await page.getByTestId('total-hashes').textContent()).toBe('3');
    const members = page.getByRole('region', { name: 'Members’ numbers' });
    // A: 3 × (2+3+…+9) = 132 matches, 3 × (1+…+8) = 108 blocks; B a third of that.
    expect(await members.locator('tbody tr').first().textContent()).toMatch(/132108/);
    expect(await members.locator('tbody tr').last().textContent()).toMatch(/4436/);
    const bars = page.locator('svg.chart rect.bar');
    expect(await bars.count()).toBe(16);
    expect(Number(await bars.first().getAttribute('height'))).toBeGreaterThan(0);
    expect(await page.locator('svg.chart').getAttribute('aria-label')).toBe(
      'Matches and blocks per minute over 8 minutes: 176 matches, 144 blocks',
    );
    expect(await gifctSection.textContent()).toContain(EVIDENCE);
    expect(await gifctSection.textContent()).toContain(HR.proportionality);
    expect(await page.getByRole('link', { name: /^bank \d+$/ }).count()).toBe(1);
    expect(await page.textContent('main')).toContain('Incident bank open; members blocking at upload.');

    // Activating TCAP without its criteria: the server's 409 is shown, nothing moves.
    await tcapSection.getByLabel('Reason for the move').fill('Tier 1 at once');
    await tcapSection.getByLabel('Activation type (for Active)').selectOption('TIER_1');
    await tcapSection.getByRole('button', { name: 'Move to Active' }).click();
    const tcapAlert = tcapSection.getByRole('alert');
    await poll(() => tcapAlert.textContent()).toContain('Not moved (409)');
    expect(await tcapAlert.textContent()).toContain(
      'TIER_1 needs every criterion asserted as met; not met or not asserted: intent, capability',
    );
    expect(await tcapSection.locator('[aria-current=step]').textContent()).toBe('Assessing (current state)');

    // A reason is needed before anything is sent.
    await gifctSection.getByRole('button', { name: 'Move to De-escalating' }).click();
    await poll(() => gifctSection.getByRole('alert').textContent()).toContain('Give a reason');
    await gifctSection.getByLabel('Reason for the move').fill('Upload attempts falling');
    await gifctSection.getByRole('button', { name: 'Move to De-escalating' }).click();
    await poll(() => gifctSection.locator('[aria-current=step]').textContent()).toBe(
      'De-escalating (current state)',
    );
    expect(await page.getByRole('status').last().textContent()).toContain('moved to De-escalating');
    // The pressed button went with the old state; focus is on the activation's heading, not lost.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(`activation-${gifct}-title`);
    expect(await gifctSection.locator('table').last().textContent()).toContain('Upload attempts falling');
    const record = (await call(keys.hub, 'GET', `/v1/crisis/incidents/${incidentId}`)).json as {
      activations: { state: string }[];
    };
    expect(record.activations[0].state).toBe('deescalating');

    // Concluding on "other" without saying which: the server's 400.
    await gifctSection.getByLabel('Reason for the move').fill('Quiet now');
    await gifctSection.getByLabel('Basis for concluding').selectOption('other');
    await gifctSection.getByRole('button', { name: 'Move to Concluded' }).click();
    await poll(() => gifctSection.getByRole('alert').textContent()).toContain(
      'Not moved (400): basis "other" needs basis_text',
    );

    // The page follows changes made elsewhere by itself (polling), and says when it last did.
    const updated = await page.locator('.live-status time').textContent();
    await ok(keys.hub, 'POST', `/v1/crisis/incidents/${incidentId}/updates`, {
      text: 'Second member confirms blocking.',
    });
    await poll(() => page.textContent('main')).toContain('Second member confirms blocking.');
    expect(await page.locator('.live-status time').textContent()).not.toBe(updated);

    // The coordinator posts an update through the page.
    await page.getByLabel('New situational-awareness update').fill('De-escalating: re-uploads down by half.');
    await page.getByRole('button', { name: 'Post update' }).click();
    await poll(() => page.locator('ol.updates li').first().textContent()).toContain(
      'De-escalating: re-uploads down by half.',
    );

    await gifctSection.getByLabel('Basis for concluding').selectOption('');
    await axe(page, 'coordinator crisis page');
    await page.screenshot({ path: join(SCREENSHOTS, 'crisis-page.png'), fullPage: true });

    // TCAP closes as not activated: its steps end there.
    await tcapSection.getByLabel('Reason for the move').fill('Low virality; hashes shared under GIFCT');
    await tcapSection.getByRole('button', { name: 'Move to Not activated' }).click();
    await poll(() => tcapSection.locator('ol.steps').textContent()).toBe(
      'Awareness (passed)Assessing (passed)Not activated (current state)',
    );
    expect(await tcapSection.textContent()).toContain('Not activated: Low virality');
    expect(await tcapSection.getByRole('button', { name: /^Move to/ }).count()).toBe(0);
    await page.close();
  }, 120_000);

  it('shows an observer the process, decisions and numbers, without evidence or the bank', async () => {
    const page = await signIn('observer@advisory.example');
    // An observer has no review queue: its home is the crisis incidents.
    await poll(() => page.locator('h1').textContent()).toBe('Crisis incidents');
    expect(await page.getByRole('link', { name: 'Review queue' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Attack streamed live' }).click();
    await poll(() => page.locator('h1').textContent()).toBe('Attack streamed live');
    expect(await page.getByRole('note').textContent()).toBe(
      'Observer view: process, decisions and numbers; no media or signals',
    );
    const main = (await page.textContent('main'))!;
    expect(main).not.toContain('video.example');
    expect(main).toContain('1 reference (not shown to observers)');
    expect(main).toContain(HR.necessity);
    expect(await page.locator('dt', { hasText: 'Incident bank' }).count()).toBe(0);
    expect(await page.locator('a[href^="#/banks"]').count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Move to/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Post update' }).count()).toBe(0);
    expect(await page.getByTestId('total-hashes').textContent()).toBe('3');
    expect(await page.locator('svg.chart rect.bar').count()).toBe(16);
    await axe(page, 'observer crisis page');
    await page.screenshot({ path: join(SCREENSHOTS, 'crisis-observer.png'), fullPage: true });
    // Reflow: at 320 CSS pixels nothing scrolls sideways but the tables inside their own frame.
    await page.setViewportSize({ width: 320, height: 700 });
    for (const hash of [`#/crisis/${incidentId}`, '#/crisis']) {
      await page.evaluate((h) => (window.location.hash = h), hash);
      await page.waitForTimeout(300);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), hash).toBeLessThanOrEqual(320);
    }
    await page.close();
  }, 60_000);

  it('lets a member acknowledge its own notification, and links the after-action report', async () => {
    const page = await signIn('oncall@videosite.example');
    await page.goto(`${url}/ui/#/crisis/${incidentId}`);
    await poll(() => page.locator('h1').textContent()).toBe('Attack streamed live');
    // The report page opens with the session the UI already has.
    const reportLink = page.getByRole('link', { name: /After-action report/ });
    await poll(() => reportLink.getAttribute('href')).toBe(`/v1/crisis/incidents/${incidentId}/report.html`);
    const html = await page.request.get(`${url}/v1/crisis/incidents/${incidentId}/report.html`);
    expect(html.status()).toBe(200);
    expect(html.headers()['content-type']).toContain('text/html');
    const report = await page.context().newPage();
    await report.goto(`${url}/v1/crisis/incidents/${incidentId}/report.html`);
    expect(await report.locator('svg').count()).toBe(2);
    await report.screenshot({ path: join(SCREENSHOTS, 'crisis-report.png'), fullPage: true });
    await report.close();
    // Activating GIFCT notified each member's contact: this member's one is pending, others are not its to ack.
    const path = `/v1/crisis/incidents/${incidentId}/notifications`;
    type Row = { id: number; organisation_id: number | null; acked: unknown };
    const listed = (await call(keys.memberA, 'GET', path)).json.items as Row[];
    const own = listed.filter((n) => n.organisation_id === memberAId && !n.acked);
    expect(own.length).toBeGreaterThan(0);
    expect(listed.length).toBeGreaterThan(own.length);
    const buttons = page.getByRole('button', { name: /^Acknowledge/ });
    await poll(() => buttons.count()).toBe(own.length);
    await buttons.first().click();
    await poll(() => buttons.count()).toBe(own.length - 1);
    expect(await page.getByRole('status').last().textContent()).toContain('acknowledged');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('notifications-title');
    const after = (await call(keys.memberA, 'GET', path)).json.items as Row[];
    expect(after.filter((n) => n.organisation_id === memberAId && !n.acked)).toHaveLength(own.length - 1);
    await axe(page, 'member crisis page');
    await page.close();
  }, 60_000);
});
