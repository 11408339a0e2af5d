/**
 * Policies: what a match does for an organisation (its own, and those of the shared banks it accepted), kept
 * briefly in memory because every submission reads them.
 */

/**
 * Submissions, cases, decisions, actions and statements of reasons. A submission with signals gets its verdict
 * in the same request: no match, matched and acted on (a `block` policy), queued for review, or logged. Every
 * decision becomes an action in the outbox and a statement of reasons in the same transaction as the decision,
 * so a crash can lose neither; the outbox delivers it once the transaction commits.
 */
import { ValidationError } from '../core/errors.js';
import type { BankService } from '../store/banks.js';
import type { StoreAccess } from '../store/unit-of-work.js';
import { PolicyStore } from '../store/policies.js';
import { POLICY_ACTIONS, type Policy, type PolicyAction } from './policy.js';

export interface PolicyDeps extends StoreAccess {
  readonly banks: BankService;
}

export class PolicyService {
  constructor(private readonly ctx: PolicyDeps) {}

  private get db() {
    return this.ctx.database.db;
  }

  /** Policies per organisation, kept briefly: every submission reads them. */
  private readonly policyCache = new Map<number, { own: Policy[]; effective: Policy[]; until: number }>();

  /** The organisation's own policies (as set through the API). */
  async policies(orgId: number): Promise<Policy[]> {
    return (await this.cachedPolicies(orgId)).own;
  }

  /** What matching applies: the own policies plus the policy chosen for each accepted share. */
  async effectivePolicies(orgId: number): Promise<Policy[]> {
    return (await this.cachedPolicies(orgId)).effective;
  }

  async cachedPolicies(orgId: number) {
    const cached = this.policyCache.get(orgId);
    if (cached && cached.until > Date.now()) return cached;
    const loaded = { ...(await this.loadPolicies(orgId)), until: Date.now() + 5_000 };
    this.policyCache.set(orgId, loaded);
    return loaded;
  }

  async loadPolicies(orgId: number): Promise<{ own: Policy[]; effective: Policy[] }> {
    const own = (await new PolicyStore(this.db).ofOrganisation(orgId)).map((r) => ({
      ...r,
      action: r.action as PolicyAction,
    }));
    // Another organisation's bank acts here only as the receiver chose when it accepted the share (a bank policy,
    // so it outranks the receiver's any-bank policies; a bank-and-label policy of its own still wins).
    const shared = [...(await this.ctx.banks.sharePolicies(orgId))]
      .filter(([bankId]) => !own.some((p) => p.bankId === bankId && p.label === null))
      .map(([bankId, action]) => ({ bankId, label: null, action: action as PolicyAction }));
    return { own, effective: [...own, ...shared] };
  }

  /** Drops cached policies (after a share was accepted, changed or left). */
  forgetPolicies(orgId: number): void {
    this.policyCache.delete(orgId);
  }

  /** Replaces the organisation's policies (an empty list restores the defaults). */
  async setPolicies(actor: string, orgId: number, policies: Policy[]): Promise<Policy[]> {
    for (const p of policies) {
      if (!(POLICY_ACTIONS as readonly string[]).includes(p.action))
        throw new ValidationError(`policy action must be one of ${POLICY_ACTIONS.join(', ')}`);
      if (p.bankId !== null) await this.ctx.banks.getVisible(orgId, p.bankId);
    }
    await this.ctx.mutate(actor, async (m) => {
      await new PolicyStore(m.db).replace(orgId, policies);
      await m.audit({
        orgId,
        action: 'policies.set',
        subjectType: 'organisation',
        subjectId: orgId,
        detail: { policies },
      });
    });
    this.policyCache.delete(orgId);
    return this.policies(orgId);
  }
}
