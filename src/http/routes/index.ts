import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { appealRoutes } from './appeals.js';
import { auditRoutes } from './audit.js';
import { bankRoutes } from './banks.js';
import { entryRoutes } from './entries.js';
import { feedbackRoutes } from './feedback.js';
import { sharingRoutes } from './sharing.js';
import { hashingRoutes } from './hashing.js';
import { healthRoutes } from './health.js';
import { hmaRoutes } from './hma.js';
import { keyRoutes } from './keys.js';
import { organisationRoutes } from './organisations.js';
import { orderRoutes } from './orders.js';
import { peopleRoutes } from './people.js';
import { webhookRoutes } from './actions/webhooks.js';
import { crisisIncidentRoutes } from './crisis/incidents.js';
import { crisisLiveRoutes } from './crisis/live.js';
import { crisisAfterActionRoutes } from './crisis/after-action.js';
import { crisisNotificationRoutes } from './crisis/notifications.js';
import { crisisDrillRoutes } from './crisis/drills.js';
import { caseRoutes } from './review/cases.js';
import { policyRoutes } from './review/policies.js';
import { reportRoutes } from './review/reports.js';
import { statementRoutes } from './review/statements.js';
import { submissionRoutes } from './review/submissions.js';
import { shareRoutes } from './shares.js';
import { taxonomyRoutes } from './taxonomy.js';
import { transparencyRoutes } from './transparency.js';
import { researchRoutes } from './research.js';
import { subscriptionRoutes } from './subscriptions.js';

/** Every route group, registered explicitly: one file per resource, in folders that mirror the domain. */
export async function registerRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  for (const routes of [
    healthRoutes,
    organisationRoutes,
    keyRoutes,
    bankRoutes,
    shareRoutes,
    taxonomyRoutes,
    entryRoutes,
    feedbackRoutes,
    sharingRoutes,
    crisisIncidentRoutes,
    crisisLiveRoutes,
    crisisAfterActionRoutes,
    crisisNotificationRoutes,
    crisisDrillRoutes,
    hashingRoutes,
    hmaRoutes,
    auditRoutes,
    submissionRoutes,
    reportRoutes,
    caseRoutes,
    statementRoutes,
    policyRoutes,
    webhookRoutes,
    peopleRoutes,
    orderRoutes,
    appealRoutes,
    transparencyRoutes,
    researchRoutes,
    subscriptionRoutes,
  ]) {
    await routes(app, ctx);
  }
}
