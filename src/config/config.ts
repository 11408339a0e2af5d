/**
 * Configuration in two steps: the environment (and CLI flags) are read once into a typed, validated Config;
 * nothing else reads process.env.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { ValidationError } from '../core/errors.js';

export interface Config {
  /** Where the embedded SQLite database and media live. */
  dataDir: string;
  /** PostgreSQL connection URL; when set, it is used instead of the embedded SQLite file. */
  databaseUrl: string | null;
  /** SQLite durability: FULL (default) fsyncs each commit. */
  sqliteSynchronous: 'FULL' | 'NORMAL';
  http: {
    host: string;
    port: number;
    /** JSON body limit. */
    bodyLimitBytes: number;
    /** Largest upload accepted by /v1/hash, /v1/match and the HMA facade. */
    maxUploadBytes: number;
    rateLimitPerMinute: number;
    trustProxy: boolean;
    /** Mark the session cookie Secure when the request came over HTTPS (default true). */
    secureCookies: boolean;
  };
  hashing: {
    maxPixels: number;
    maxVideoSeconds: number;
  };
  index: {
    /** How often the index polls the store for changes made by other processes (ms). */
    pollIntervalMs: number;
  };
  fetch: {
    /** Hosts (host or host:port) whose media may be fetched for URL submissions; empty = URL submissions off. */
    allowedHosts: string[];
  };
  webhooks: {
    /** Hosts (host or host:port) webhooks may reach although internal or plain http (local receivers, tests). */
    allowedHosts: string[];
  };
  /** External lists as sources (src/sources/): what they may reach and how much they may bring. */
  sources: {
    /** Hosts (host or host:port) sources may reach although internal or plain http (local lists, tests). */
    allowedHosts: string[];
    /** The directory local list files must be under; null: subscriptions to local files are off. */
    fileRoot: string | null;
    timeoutMs: number;
    maxBytes: number;
    /** Run subscriptions in the background on their intervals (default true; false: only when asked to sync). */
    schedule: boolean;
  };
  retention: {
    /** Days submitted media and uploader ids are kept (the TCO Regulation asks for six months after removal). */
    mediaDays: number;
  };
  sharing: {
    /** Distinct organisations whose "false positive" sets a shared signal aside until its owner decides. */
    disputeThreshold: number;
    /** Matches of one shared signal in an organisation's uploads within an hour that stop it acting (flood). */
    floodLimitPerHour: number;
    /** Signals an organisation may add a minute to each bank it does not own (KAITIAKI_CONTRIBUTIONS_PER_MINUTE). */
    contributionsPerMinute: number;
  };
  crisis: {
    /** How often a member reports its matches and blocks on a hub's incident banks (KAITIAKI_CRISIS_TELEMETRY_MS). */
    telemetryIntervalMs: number;
    /**
     * This instance's public address (KAITIAKI_PUBLIC_URL, e.g. https://hub.example): acknowledgement links in
     * crisis notifications are made from it. Without it, a notification carries the link's path only.
     */
    publicUrl: string | null;
    /** The SMTP server crisis notifications are e-mailed through (contacts without a webhook); null: no e-mail. */
    smtpUrl: string | null;
    /** The sender of those e-mails (KAITIAKI_MAIL_FROM). */
    mailFrom: string;
  };
  /** The HMA listener (`serve --hma-listen`): the HMA facade without keys, as one organisation. */
  hma: {
    /** HOST:PORT, or null for no HMA listener. */
    listen: string | null;
    /** The organisation (id or name) it acts as. */
    org: string | null;
    /** Bind to a public address too. */
    listenForce: boolean;
  };
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(
      `${name} must be an integer from ${min} to ${max}, got "${raw}"`,
      'KAI_ERR_CONFIG',
    );
  }
  return value;
}

function hostList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
}

function publicUrl(raw: string | undefined): string | null {
  if (!raw) return null;
  if (!/^https?:\/\/[^/\s]+/.test(raw) || !URL.canParse(raw))
    throw new ValidationError(
      `KAITIAKI_PUBLIC_URL must be an http(s) URL such as https://hub.example, got "${raw}"`,
      'KAI_ERR_CONFIG',
    );
  return raw.replace(/\/+$/, '');
}

function smtpUrl(raw: string | undefined): string | null {
  if (!raw) return null;
  if (!/^smtps?:\/\/[^/\s]+/.test(raw) || !URL.canParse(raw))
    throw new ValidationError(
      'KAITIAKI_SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://…',
      'KAI_ERR_CONFIG',
    );
  return raw;
}

export interface ConfigOverrides {
  dataDir?: string;
  databaseUrl?: string | null;
  host?: string;
  port?: number;
  hmaListen?: string;
  hmaOrg?: string;
  hmaListenForce?: boolean;
}

export function readConfig(env: Env = process.env, overrides: ConfigOverrides = {}): Config {
  const sync = env.KAITIAKI_SQLITE_SYNCHRONOUS ?? 'FULL';
  if (sync !== 'FULL' && sync !== 'NORMAL')
    throw new ValidationError('KAITIAKI_SQLITE_SYNCHRONOUS must be FULL or NORMAL', 'KAI_ERR_CONFIG');
  return {
    dataDir: resolve(overrides.dataDir ?? env.KAITIAKI_DATA_DIR ?? './data'),
    databaseUrl:
      overrides.databaseUrl !== undefined ? overrides.databaseUrl : env.KAITIAKI_DATABASE_URL || null,
    sqliteSynchronous: sync,
    http: {
      host: overrides.host ?? env.KAITIAKI_HOST ?? '127.0.0.1',
      port: overrides.port ?? int(env, 'KAITIAKI_PORT', 8080, 0, 65535),
      bodyLimitBytes: int(env, 'KAITIAKI_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
      maxUploadBytes: int(env, 'KAITIAKI_MAX_UPLOAD_BYTES', 100 * 1024 * 1024, 1024, 4 * 1024 * 1024 * 1024),
      rateLimitPerMinute: int(env, 'KAITIAKI_RATE_LIMIT_PER_MINUTE', 1_200_000, 1, 100_000_000),
      trustProxy: env.KAITIAKI_TRUST_PROXY === 'true',
      secureCookies: env.KAITIAKI_SECURE_COOKIES !== 'false',
    },
    hashing: {
      maxPixels: int(env, 'KAITIAKI_MAX_PIXELS', 100_000_000, 1, 1_000_000_000),
      maxVideoSeconds: int(env, 'KAITIAKI_MAX_VIDEO_SECONDS', 3 * 3600, 1, 48 * 3600),
    },
    index: { pollIntervalMs: int(env, 'KAITIAKI_INDEX_POLL_MS', 1000, 50, 3_600_000) },
    fetch: { allowedHosts: hostList(env.KAITIAKI_FETCH_ALLOWED_HOSTS) },
    webhooks: { allowedHosts: hostList(env.KAITIAKI_WEBHOOK_ALLOWED_HOSTS) },
    sources: {
      allowedHosts: hostList(env.KAITIAKI_SOURCE_ALLOWED_HOSTS),
      fileRoot: env.KAITIAKI_SOURCE_FILE_ROOT ? resolve(env.KAITIAKI_SOURCE_FILE_ROOT) : null,
      timeoutMs: int(env, 'KAITIAKI_SOURCE_TIMEOUT_MS', 30_000, 100, 600_000),
      maxBytes: int(env, 'KAITIAKI_SOURCE_MAX_BYTES', 256 * 1024 * 1024, 1024, 4 * 1024 * 1024 * 1024),
      schedule: env.KAITIAKI_SOURCE_SCHEDULE !== 'false',
    },
    retention: { mediaDays: int(env, 'KAITIAKI_MEDIA_RETENTION_DAYS', 183, 1, 3650) },
    sharing: {
      disputeThreshold: int(env, 'KAITIAKI_DISPUTE_THRESHOLD', 2, 1, 1000),
      floodLimitPerHour: int(env, 'KAITIAKI_FLOOD_LIMIT_PER_HOUR', 1000, 1, 10_000_000),
      contributionsPerMinute: int(env, 'KAITIAKI_CONTRIBUTIONS_PER_MINUTE', 600, 1, 10_000_000),
    },
    crisis: {
      telemetryIntervalMs: int(env, 'KAITIAKI_CRISIS_TELEMETRY_MS', 5000, 200, 3_600_000),
      publicUrl: publicUrl(env.KAITIAKI_PUBLIC_URL),
      smtpUrl: smtpUrl(env.KAITIAKI_SMTP_URL),
      mailFrom: env.KAITIAKI_MAIL_FROM || 'Kaitiaki <kaitiaki@localhost>',
    },
    hma: {
      listen: overrides.hmaListen ?? (env.KAITIAKI_HMA_LISTEN || null),
      org: overrides.hmaOrg ?? (env.KAITIAKI_HMA_ORG || null),
      listenForce: overrides.hmaListenForce ?? env.KAITIAKI_HMA_LISTEN_FORCE === 'true',
    },
  };
}

export function sqlitePath(config: Config): string {
  mkdirSync(config.dataDir, { recursive: true });
  return resolve(config.dataDir, 'kaitiaki.sqlite');
}
