/** A whole Kaitiaki (context + Fastify app) on a fresh database, for HTTP tests with app.inject. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { readConfig } from '../../src/config/config.js';
import { AppContext } from '../../src/context.js';
import { buildApp } from '../../src/http/app.js';
import { initialise } from '../../src/cli/commands/init.js';
import type { DialectName } from '../../src/store/dialect.js';
import { freshDatabase, type TestDatabase } from './databases.js';

export interface TestApp {
  ctx: AppContext;
  app: FastifyInstance;
  adminKey: string;
  test: TestDatabase;
  /** A new organisation with a key of the given role. */
  organisation(name: string, role?: string): Promise<{ id: number; key: string }>;
  close(): Promise<void>;
}

export async function startTestApp(dialect: DialectName, env: Record<string, string> = {}): Promise<TestApp> {
  const test = await freshDatabase(dialect);
  const dataDir = mkdtempSync(join(tmpdir(), 'kaitiaki-app-'));
  // Tests' webhook receivers listen on loopback, which only an operator's allow-list opens.
  const config = readConfig(
    { KAITIAKI_INDEX_POLL_MS: '100', KAITIAKI_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', ...env },
    { dataDir },
  );
  const ctx = new AppContext(config, test.db);
  const init = await initialise(ctx);
  await ctx.start();
  const app = await buildApp(ctx);
  return {
    ctx,
    app,
    test,
    adminKey: init.adminKey!,
    async organisation(name, role = 'integration') {
      const org = await ctx.organisations.create(name);
      const { key } = await ctx.apiKeys.create(org.id, { name: `${name} key`, role });
      return { id: org.id, key };
    },
    async close() {
      await app.close();
      await ctx.close();
      await test.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

/** A multipart/form-data body with one file part, built by hand (what curl -F sends). */
export function multipart(
  field: string,
  filename: string,
  content: Buffer,
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----kaitiaki-test-boundary';
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
