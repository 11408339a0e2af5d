import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DIALECTS } from '../helpers/databases.js';

describe.each(TEST_DIALECTS)('people and sessions on %s', (dialect) => {
  let t: TestApp;
  let admin: { id: number; key: string };
  beforeAll(async () => {
    t = await startTestApp(dialect, { KAITIAKI_SECURE_COOKIES: 'false' });
    admin = await t.organisation('Platform with people', 'admin');
  });
  afterAll(() => t.close());

  const cookieOf = (setCookie: string | string[] | undefined) =>
    String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(';')[0];

  it('an admin creates a moderator, who signs in with a session cookie guarded by a CSRF token', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(admin.key),
      payload: { email: 'Mod@Platform.example', role: 'moderator', password: 'a long passphrase here' },
    });
    expect(created.statusCode).toBe(201);
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { email: 'mod@platform.example', password: 'not the password' },
    });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { email: 'nobody@platform.example', password: 'not the password' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.json().detail).toBe(wrong.json().detail);

    const signIn = await t.app.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { email: 'mod@platform.example', password: 'a long passphrase here' },
    });
    expect(signIn.statusCode).toBe(200);
    const setCookie = String(signIn.headers['set-cookie']);
    expect(setCookie).toMatch(/kaitiaki_session=[A-Za-z0-9_-]{43}/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = cookieOf(signIn.headers['set-cookie']);
    const csrf = signIn.json().csrf_token;

    const me = await t.app.inject({ method: 'GET', url: '/v1/session', headers: { cookie } });
    expect(me.json().user).toMatchObject({
      email: 'mod@platform.example',
      role: 'moderator',
      organisation_id: admin.id,
    });
    expect((await t.app.inject({ method: 'GET', url: '/v1/cases', headers: { cookie } })).statusCode).toBe(
      200,
    );
    const noCsrf = await t.app.inject({
      method: 'POST',
      url: '/v1/banks',
      headers: { cookie },
      payload: { name: 'BY_SESSION' },
    });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().code).toBe('KAI_ERR_CSRF');
    const withCsrf = await t.app.inject({
      method: 'POST',
      url: '/v1/banks',
      headers: { cookie, 'x-csrf-token': csrf },
      payload: { name: 'BY_SESSION' },
    });
    expect(withCsrf.statusCode).toBe(201);
    // What a moderator may not do, a session may not do either.
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/keys',
          headers: { cookie, 'x-csrf-token': csrf },
          payload: { name: 'x', role: 'admin' },
        })
      ).statusCode,
    ).toBe(403);
    const trail = await t.ctx.audit.list(admin.id, { limit: 100 });
    expect(trail.items.find((r) => r.action === 'bank.create')?.actor).toMatch(/^user:\d+$/);

    const signOut = await t.app.inject({
      method: 'DELETE',
      url: '/v1/session',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(signOut.statusCode).toBe(204);
    const after = await t.app.inject({ method: 'GET', url: '/v1/cases', headers: { cookie } });
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('KAI_ERR_SESSION_INVALID');
  });

  it('refuses weak passwords and unknown roles', async () => {
    const weak = await t.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(admin.key),
      payload: { email: 'x@p.example', role: 'viewer', password: 'short' },
    });
    expect(weak.statusCode).toBe(400);
    const role = await t.app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: bearer(admin.key),
      payload: { email: 'y@p.example', role: 'root', password: 'a long passphrase here' },
    });
    expect(role.statusCode).toBe(400);
  });
});
