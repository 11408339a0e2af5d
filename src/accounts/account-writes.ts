/**
 * Every change to organisations, their keys, their people and their settings, each as one unit of work with its
 * audit record (and, for a revoked key, the cache forgotten after the commit). The HTTP API and the CLI call these
 * and nothing else to change an account.
 */
import type { ApiKeyInfo } from '../store/api-keys.js';
import { OrgSettingsStore, type OrgSettings } from '../store/org-settings.js';
import type { Organisation } from '../store/organisations.js';
import type { Transactions } from '../store/unit-of-work.js';
import { SessionService, type SessionInfo, type User } from '../store/users.js';

export interface NewKey {
  name: string;
  role: string;
}

export class AccountWrites {
  constructor(
    private readonly transactions: Transactions,
    /** Forgets a key held in the authentication cache, so a revoked key stops working at once. */
    private readonly forgetKey: (keyId: number) => void,
  ) {}

  /** A new organisation, with a first key when asked (both recorded, in the new organisation's trail too). */
  createOrganisation(
    actor: string,
    actorOrgId: number,
    input: { name: string; kind?: string },
    firstKey?: NewKey,
  ): Promise<{ org: Organisation; key: { key: string; info: ApiKeyInfo } | null }> {
    return this.transactions.run(actor, async (unit) => {
      const org = await unit.organisations.create(input.name, input.kind);
      await unit.audit({
        orgId: actorOrgId,
        action: 'organisation.create',
        subjectType: 'organisation',
        subjectId: org.id,
        detail: { name: org.name, kind: org.kind },
      });
      const key = firstKey ? await unit.apiKeys.create(org.id, { ...firstKey, createdBy: actor }) : null;
      if (key)
        await unit.audit({
          orgId: org.id,
          action: 'key.create',
          subjectType: 'api_key',
          subjectId: key.info.id,
          detail: { name: key.info.name, role: key.info.role },
        });
      return { org, key };
    });
  }

  /**
   * The instance administrators' organisation and its first (instance-administrator) key, from `kaitiaki init`:
   * one unit of work, so a crash between the two cannot leave an organisation whose key was never printed (init
   * would then find the database initialised and print nothing).
   */
  initialiseInstance(actor: string, name: string): Promise<{ org: Organisation; key: string }> {
    return this.transactions.run(actor, async (unit) => {
      const org = await unit.organisations.create(name, 'instance');
      await unit.audit({
        orgId: org.id,
        action: 'organisation.create',
        subjectType: 'organisation',
        subjectId: org.id,
        detail: { name: org.name, kind: org.kind },
      });
      const created = await unit.apiKeys.create(org.id, {
        name: 'admin (from kaitiaki init)',
        role: 'admin',
        createdBy: actor,
        instanceAdmin: true,
      });
      await unit.audit({
        orgId: org.id,
        action: 'key.create',
        subjectType: 'api_key',
        subjectId: created.info.id,
        detail: { name: created.info.name, role: created.info.role, instance_admin: true },
      });
      return { org, key: created.key };
    });
  }

  /** An API key of an organisation; `instanceAdmin` only from the server's own CLI (never through the API). */
  createKey(
    actor: string,
    orgId: number,
    input: NewKey & { instanceAdmin?: boolean },
  ): Promise<{ key: string; info: ApiKeyInfo }> {
    return this.transactions.run(actor, async (unit) => {
      const created = await unit.apiKeys.create(orgId, { ...input, createdBy: actor });
      await unit.audit({
        orgId,
        action: 'key.create',
        subjectType: 'api_key',
        subjectId: created.info.id,
        detail: {
          name: created.info.name,
          role: created.info.role,
          ...(input.instanceAdmin ? { instance_admin: true } : {}),
        },
      });
      return created;
    });
  }

  revokeKey(actor: string, orgId: number, keyId: number): Promise<ApiKeyInfo> {
    return this.transactions.run(actor, async (unit) => {
      const revoked = await unit.apiKeys.revoke(orgId, keyId);
      await unit.audit({ orgId, action: 'key.revoke', subjectType: 'api_key', subjectId: revoked.id });
      unit.onCommit(() => this.forgetKey(revoked.id));
      return revoked;
    });
  }

  createUser(
    actor: string,
    orgId: number,
    input: { email: string; displayName?: string; role: string; password?: string },
    via?: 'cli',
  ): Promise<User> {
    return this.transactions.run(actor, async (unit) => {
      const user = await unit.users.create(orgId, input);
      await unit.audit({
        orgId,
        action: 'user.create',
        subjectType: 'user',
        subjectId: user.id,
        detail: { email: user.email, role: user.role, ...(via ? { via } : {}) },
      });
      return user;
    });
  }

  /** Clears a person's failed sign-ins (and the lock they caused); says whether there were any. */
  unlockUser(actor: string, orgId: number, user: User): Promise<boolean> {
    return this.transactions.run(actor, async (unit) => {
      const had = await unit.signInFailures.clear(user.email);
      await unit.audit({
        orgId,
        action: 'user.unlock',
        subjectType: 'user',
        subjectId: user.id,
        detail: { had_failures: had },
      });
      return had;
    });
  }

  /** A signed-in person's new session, recorded in their organisation's trail. */
  startSession(user: User): Promise<{ token: string; session: SessionInfo }> {
    return this.transactions.run(`user:${user.id}`, async (unit) => {
      const started = await new SessionService(unit.db).create(user);
      await unit.audit({
        orgId: user.orgId,
        action: 'session.create',
        subjectType: 'user',
        subjectId: user.id,
      });
      return started;
    });
  }

  /** Recourse settings (hosts, appeal window, report publication); `reported` is kept in the audit record. */
  updateSettings(
    actor: string,
    orgId: number,
    changes: Partial<Pick<OrgSettings, 'hosts' | 'appealWindowDays' | 'publishReports'>>,
    reported: object,
  ): Promise<OrgSettings> {
    return this.transactions.run(actor, async (unit) => {
      const settings = await new OrgSettingsStore(unit.db).put(orgId, changes);
      await unit.audit({
        orgId,
        action: 'settings.recourse',
        subjectType: 'organisation',
        subjectId: orgId,
        detail: { ...reported },
      });
      return settings;
    });
  }
}
