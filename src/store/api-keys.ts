/**
 * API keys: `kt_<prefix>_<secret>`. The whole key is shown once at creation; the store keeps only its SHA-256
 * (a key has 192 random bits, so a fast hash is enough: there is nothing to brute-force) and the prefix, which
 * lets people tell their keys apart in lists.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isRole, permissionsOf, type Principal } from '../auth/roles.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { nowIso, type Db } from './database.js';
import type { ApiKeyRow } from './schema.js';

export interface ApiKeyInfo {
  id: number;
  orgId: number;
  name: string;
  prefix: string;
  role: string;
  createdBy: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  instanceAdmin: boolean;
}

const KEY_PATTERN = /^kt_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{32})$/;
/** last_used_at is written at most this often per key, so busy keys do not turn every read into a write. */
const LAST_USED_RESOLUTION_MS = 60_000;
/**
 * Verified keys are remembered this long, so a busy integration does not cost a database read per request. A key
 * revoked through this process stops at once; through another process, within this time.
 */
const AUTH_CACHE_MS = 5_000;

function toInfo(row: ApiKeyRow): ApiKeyInfo {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    prefix: row.prefix,
    role: row.role,
    createdBy: row.created_by,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    instanceAdmin: row.instance_admin === 1,
  };
}

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export class ApiKeyService {
  private readonly lastUsedWrites = new Map<number, number>();
  private readonly verified = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly db: Db) {}

  static creator() {
    return (db: Db) => new ApiKeyService(db);
  }

  async create(
    orgId: number,
    input: { name: string; role: string; createdBy?: string; instanceAdmin?: boolean },
  ): Promise<{ key: string; info: ApiKeyInfo }> {
    if (!isRole(input.role))
      throw new ValidationError(`unknown role "${input.role}"`, 'KAI_ERR_ROLE_UNKNOWN');
    const name = input.name.trim();
    if (name.length < 1 || name.length > 100)
      throw new ValidationError('key name must be 1 to 100 characters');
    const prefix = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 8);
    const key = `kt_${prefix}_${randomBytes(24).toString('base64url')}`;
    const row = await this.db
      .insertInto('api_keys')
      .values({
        org_id: orgId,
        name,
        prefix,
        key_hash: hashApiKey(key),
        role: input.role,
        created_by: input.createdBy ?? null,
        created_at: nowIso(),
        instance_admin: input.instanceAdmin ? 1 : 0,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { key, info: toInfo(row) };
  }

  /** The principal behind a presented key, or null if the key is unknown, malformed or revoked. */
  async authenticate(presented: string): Promise<Principal | null> {
    if (!KEY_PATTERN.test(presented)) return null;
    const digest = hashApiKey(presented);
    const cached = this.verified.get(digest);
    if (cached && cached.until > Date.now()) return cached.principal;
    const row = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('key_hash', '=', digest)
      .executeTakeFirst();
    if (!row || row.revoked_at) return null;
    // The lookup was by digest; compare again in constant time so no timing depends on how much matched.
    if (!timingSafeEqual(Buffer.from(row.key_hash, 'hex'), Buffer.from(digest, 'hex'))) return null;
    await this.markUsed(row.id);
    const principal: Principal = {
      orgId: row.org_id,
      role: row.role,
      permissions: permissionsOf(row.role, row.instance_admin === 1),
      ...(row.instance_admin === 1 ? { instanceAdmin: true } : {}),
      keyId: row.id,
      label: `key:${row.id}`,
    };
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(digest, { principal, until: Date.now() + AUTH_CACHE_MS });
    return principal;
  }

  private async markUsed(id: number): Promise<void> {
    const now = Date.now();
    if (now - (this.lastUsedWrites.get(id) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    this.lastUsedWrites.set(id, now);
    await this.db
      .updateTable('api_keys')
      .set({ last_used_at: new Date(now).toISOString() })
      .where('id', '=', id)
      .execute();
  }

  async list(orgId: number): Promise<ApiKeyInfo[]> {
    const rows = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('id')
      .execute();
    return rows.map(toInfo);
  }

  /** The names of these keys of the organisation. */
  async names(orgId: number, ids: readonly number[]): Promise<Map<number, string>> {
    const rows = await this.db
      .selectFrom('api_keys')
      .select(['id', 'name'])
      .where('org_id', '=', orgId)
      .where('id', 'in', ids)
      .execute();
    return new Map(rows.map((k) => [k.id, k.name]));
  }

  async revoke(orgId: number, id: number): Promise<ApiKeyInfo> {
    const row = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: nowIso() })
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`API key ${id} not found`);
    this.verified.delete(row.key_hash);
    return toInfo(row);
  }

  /** Drops a key from the verified-key cache (after it was revoked through another service instance). */
  forget(id: number): void {
    for (const [digest, entry] of this.verified)
      if (entry.principal.keyId === id) this.verified.delete(digest);
  }
}
