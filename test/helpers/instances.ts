/** Kaitiaki instances as separate `kaitiaki serve` processes on loopback, each with its own data directory. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { BIN, runCli } from './cli.js';

export interface Instance {
  dataDir: string;
  adminKey: string;
  url: string;
  child: ChildProcess;
}

/** Serves a data directory; `port` 0 takes a free one (pass the old port to restart at the same address). */
export async function start(
  dataDir: string,
  env: Record<string, string> = {},
  port = 0,
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--data-dir', dataDir, '--port', String(port), '--quiet'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving on (http:\/\/\S+) /.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
  return { url, child };
}

export async function instance(name: string, env: Record<string, string> = {}): Promise<Instance> {
  const dataDir = join(mkdtempSync(join(tmpdir(), `kaitiaki-${name}-`)), 'data');
  const init = await runCli(['init', '--data-dir', dataDir, '--json'], env);
  const adminKey = JSON.parse(init.stdout).admin_key as string;
  return { dataDir, adminKey, ...(await start(dataDir, env)) };
}

/**
 * A fresh PostgreSQL database of its own for an instance process (KAITIAKI_DATABASE_URL), dropped by `drop`.
 * `server` is a URL of a database on the server to create it from.
 */
export async function freshPostgres(server: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `kaitiaki_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

export const api = async (base: string, key: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
};

export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  ms = 15_000,
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
