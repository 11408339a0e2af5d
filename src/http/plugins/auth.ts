/**
 * Authentication and authorisation for every route. A route declares `config: { permission }`: a permission
 * string the caller's role must grant, or null for a public route (health, OpenAPI, docs). A route that
 * declares nothing still requires a caller: forgetting to declare fails closed.
 *
 * Callers are machines with an API key (`Authorization: Bearer ...`) or people with a session cookie. A request
 * authenticated by cookie that changes anything must also carry the session's CSRF token in `X-CSRF-Token`
 * (the cookie is SameSite=Strict as well).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { permissionsOf, type AnyPermission, type Principal } from '../../auth/roles.js';
import { AuthError, ForbiddenError } from '../../core/errors.js';
import type { AppContext } from '../../context.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission this route needs; null = public. */
    permission?: AnyPermission | null;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export const SESSION_COOKIE = 'kaitiaki_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match)
    throw new AuthError('the Authorization header must be "Bearer <api key>"', 'KAI_ERR_BAD_AUTH_HEADER');
  return match[1];
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function sessionPrincipal(
  ctx: AppContext,
  request: FastifyRequest,
  cookie: string,
): Promise<Principal> {
  const session = await ctx.sessions.lookup(cookie);
  if (!session)
    throw new AuthError('your session has expired or was ended; sign in again', 'KAI_ERR_SESSION_INVALID');
  if (!SAFE_METHODS.has(request.method)) {
    const csrf = request.headers['x-csrf-token'];
    if (typeof csrf !== 'string' || !sameToken(csrf, session.csrfToken)) {
      throw new ForbiddenError(
        'missing or wrong X-CSRF-Token for a change made with a session cookie',
        'KAI_ERR_CSRF',
      );
    }
  }
  const { user } = session;
  return {
    orgId: user.orgId,
    role: user.role,
    permissions: permissionsOf(user.role),
    userId: user.id,
    label: `user:${user.id}`,
  };
}

export function registerAuth(app: FastifyInstance, ctx: AppContext): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const permission = request.routeOptions.config?.permission;
    // Public: routes declared so, the API docs and the UI's static files (which hold no data).
    if (permission === null || request.url.startsWith('/docs') || request.url.startsWith('/ui/')) return;
    const token = bearerToken(request);
    const cookie = request.cookies?.[SESSION_COOKIE];
    let principal: Principal | null;
    if (token) {
      principal = await ctx.apiKeys.authenticate(token);
      if (!principal)
        throw new AuthError(
          'the API key is not valid (unknown, malformed or revoked)',
          'KAI_ERR_BAD_API_KEY',
        );
    } else if (cookie) {
      principal = await sessionPrincipal(ctx, request, cookie);
    } else {
      throw new AuthError(
        'this route needs an API key ("Authorization: Bearer <api key>") or a signed-in session',
        'KAI_ERR_UNAUTHENTICATED',
      );
    }
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
