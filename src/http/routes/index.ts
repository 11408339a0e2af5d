import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.js';
import { appealRoutes } from './appeals.js';
import { auditRoutes } from './audit.js';
import { bankRoutes } from './banks.js';
import { entryRoutes } from './entries.js';
import { hashingRoutes } from './hashing.js';
import { healthRoutes } from './health.js';
import { hmaRoutes } from './hma.js';
import { keyRoutes } from './keys.js';
import { organisationRoutes } from './organisations.js';
import { orderRoutes } from './orders.js';
import { peopleRoutes } from './people.js';
import { reviewRoutes } from './review.js';
import { shareRoutes } from './shares.js';
import { transparencyRoutes } from './transparency.js';
import { researchRoutes } from './research.js';
import { subscriptionRoutes } from './subscriptions.js';

/** Every route group, registered explicitly. */
export async function registerRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  for (const routes of [
    healthRoutes,
    organisationRoutes,
    keyRoutes,
    bankRoutes,
    shareRoutes,
    entryRoutes,
    hashingRoutes,
    hmaRoutes,
    auditRoutes,
    reviewRoutes,
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
