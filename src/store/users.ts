/** People who sign in to the web UI. Passwords are hashed with scrypt (N=2^15, r=8, p=1) and a per-user salt. */
import {
  createHash,
  randomBytes,
  scrypt as scryptCallback,
  timingSafeEqual,
  type ScryptOptions,
} from 'node:crypto';
import { isCommonPassword } from '../auth/common-passwords.js';
import { isRole } from '../auth/roles.js';
import { ConflictError, ValidationError } from '../core/errors.js';
import { nowIso, type Db } from './database.js';
import type { UserRow } from './schema.js';

export interface User {
  id: number;
  orgId: number;
  email: string;
  displayName: string;
  role: string;
  disabled: boolean;
  createdAt: string;
}

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLength: 32, maxmem: 64 * 1024 * 1024 };

function scrypt(password: string, salt: Buffer, options: ScryptOptions, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(password, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$hash`, so parameters can be raised later without breaking existing hashes. */
export async function hashPassword(password: string): Promise<string> {
  if (password.length < 12)
    throw new ValidationError('password must have at least 12 characters', 'KAI_ERR_WEAK_PASSWORD');
  if (password.length > 1024) throw new ValidationError('password is too long (1024 characters at most)');
  if (isCommonPassword(password))
    throw new ValidationError(
      'this password is among the most commonly used ones; choose another',
      'KAI_ERR_WEAK_PASSWORD',
    );
  const salt = randomBytes(16);
  const key = await scrypt(
    password,
    salt,
    { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: SCRYPT.maxmem },
    SCRYPT.keyLength,
  );
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

let decoy: Promise<string> | null = null;
/** A hash of a random password with today's parameters, checked against when there is no account. */
function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(24).toString('base64url'));
  return decoy;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await scrypt(
    password,
    Buffer.from(salt, 'base64url'),
    { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem },
    expected.length,
  );
  return timingSafeEqual(key, expected);
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    orgId: row.org_id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    disabled: row.disabled === 1,
    createdAt: row.created_at,
  };
}

export class UserService {
  constructor(private readonly db: Db) {}

  static creator() {
    return (db: Db) => new UserService(db);
  }

  async create(
    orgId: number,
    input: { email: string; displayName?: string; role: string; password?: string },
  ): Promise<User> {
    const email = input.email.trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 320)
      throw new ValidationError(`"${input.email}" is not an email address`);
    if (!isRole(input.role))
      throw new ValidationError(`unknown role "${input.role}"`, 'KAI_ERR_ROLE_UNKNOWN');
    if (await this.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst()) {
      // Addresses are unique on the instance; say only that this one cannot be used, never where it is used.
      throw new ConflictError(
        'this email address cannot be given a new account; use another address',
        'KAI_ERR_EMAIL_UNAVAILABLE',
      );
    }
    const row = await this.db
      .insertInto('users')
      .values({
        org_id: orgId,
        email,
        display_name: input.displayName?.trim() || email,
        password_hash: input.password ? await hashPassword(input.password) : null,
        role: input.role,
        created_at: nowIso(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toUser(row);
  }

  /** The user if the email and password are right and the account is enabled; else null (never which part failed). */
  async verify(email: string, password: string): Promise<User | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('email', '=', email.trim().toLowerCase())
      .executeTakeFirst();
    // Unknown addresses cost one scrypt too, so the answer time does not tell which addresses have accounts.
    const passwordOk = await verifyPassword(password, row?.password_hash ?? (await decoyHash()));
    if (!row || !row.password_hash || row.disabled) return null;
    return passwordOk ? toUser(row) : null;
  }

  async get(id: number): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  /** The names the organisation's people are shown by: their display name, else their email. */
  async displayNames(orgId: number, ids: readonly number[]): Promise<Map<number, string>> {
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'display_name', 'email'])
      .where('org_id', '=', orgId)
      .where('id', 'in', ids)
      .execute();
    return new Map(rows.map((u) => [u.id, u.display_name || u.email]));
  }
}

/** Sessions for people signed in to the web UI: an HttpOnly cookie carries the token, a CSRF token guards writes. */
export interface SessionInfo {
  user: User;
  csrfToken: string;
  expiresAt: string;
}

export const SESSION_TTL_MS = 12 * 3_600_000;

export class SessionService {
  constructor(private readonly db: Db) {}

  async create(user: User): Promise<{ token: string; session: SessionInfo }> {
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const now = new Date();
    const expiresAt = new Date(now.getTime() + SESSION_TTL_MS).toISOString();
    await this.db
      .insertInto('sessions')
      .values({
        token_hash: sessionDigest(token),
        user_id: user.id,
        csrf_token: csrfToken,
        created_at: now.toISOString(),
        expires_at: expiresAt,
      })
      .execute();
    return { token, session: { user, csrfToken, expiresAt } };
  }

  /** The live session behind a cookie token, or null (unknown, expired, revoked, or the account disabled). */
  async lookup(token: string): Promise<SessionInfo | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const row = await this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('users')
      .select(['sessions.csrf_token', 'sessions.expires_at', 'sessions.revoked_at'])
      .where('sessions.token_hash', '=', sessionDigest(token))
      .executeTakeFirst();
    if (!row || row.revoked_at || row.disabled || Date.parse(row.expires_at) < Date.now()) return null;
    return { user: toUser(row), csrfToken: row.csrf_token, expiresAt: row.expires_at };
  }

  async revoke(token: string): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ revoked_at: nowIso() })
      .where('token_hash', '=', sessionDigest(token))
      .execute();
  }
}

function sessionDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
