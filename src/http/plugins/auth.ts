/**
 * Authentication and authorisation for every route. A route declares `config: { permission }`: a permission
 * string the caller's role must grant, or null for a public route (health, OpenAPI, docs). A route that
 * declares nothing still requires a valid key: forgetting to declare fails closed.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Permission, Principal } from '../../auth/roles.js';
import { AuthError, ForbiddenError } from '../../core/errors.js';
import type { AppContext } from '../../context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission this route needs; null = public. */
    permission?: Permission | null;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match)
    throw new AuthError('the Authorization header must be "Bearer <api key>"', 'KAI_ERR_BAD_AUTH_HEADER');
  return match[1];
}

export function registerAuth(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const permission = request.routeOptions.config?.permission;
    if (permission === null || request.url.startsWith('/docs')) return;
    const token = bearerToken(request);
    if (!token)
      throw new AuthError(
        'this route needs an API key: send "Authorization: Bearer <api key>"',
        'KAI_ERR_UNAUTHENTICATED',
      );
    const principal = await ctx.apiKeys.authenticate(token);
    if (!principal)
      throw new AuthError('the API key is not valid (unknown, malformed or revoked)', 'KAI_ERR_BAD_API_KEY');
    request.principal = principal;
    if (permission && !principal.permissions.has(permission)) {
      throw new ForbiddenError(
        `your role (${principal.role}) does not allow this: it needs the "${permission}" permission`,
      );
    }
  });
}

/** The authenticated caller; routes that run after the auth hook can rely on it. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AuthError('not authenticated');
  return request.principal;
}
