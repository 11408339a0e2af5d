import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { INSTANCE_PERMISSIONS, PERMISSIONS, permissionsOf, ROLES } from '../../auth/roles.js';
import type { AppContext } from '../../context.js';
import { AuthError, NotFoundError } from '../../core/errors.js';
import { SESSION_TTL_MS, type User } from '../../store/users.js';
import { principalOf, SESSION_COOKIE } from '../plugins/auth.js';
import { errorResponses, IdParams } from '../schemas/common.js';
import { answerOf, Id, Time } from '../schemas/views.js';

const SignIn = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
const CreateUser = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 320 }),
    display_name: Type.Optional(Type.String({ maxLength: 200 })),
    role: Type.Union(ROLES.map((r) => Type.Literal(r))),
    password: Type.String({ minLength: 12, maxLength: 1024 }),
  },
  { additionalProperties: false },
);

function userView(u: User) {
  return {
    id: u.id,
    email: u.email,
    display_name: u.displayName,
    role: u.role,
    organisation_id: u.orgId,
    permissions: [...permissionsOf(u.role)].sort(),
  };
}

const UserSchema = answerOf<ReturnType<typeof userView>>()(
  Type.Object({
    id: Id,
    email: Type.String(),
    display_name: Type.String(),
    role: Type.String(),
    organisation_id: Id,
    permissions: Type.Array(Type.Enum([...PERMISSIONS, ...INSTANCE_PERMISSIONS])),
  }),
);
const SessionSchema = Type.Object({
  user: UserSchema,
  csrf_token: Type.String({
    description: 'send it back as x-csrf-token on every write made with the cookie',
  }),
  expires_at: Time,
});
const NewUser = Type.Omit(UserSchema, ['permissions']);

function lockedError(until: string): AuthError {
  return new AuthError(
    `too many failed sign-ins for this account: try again after ${until}, or ask an administrator to unlock it`,
    'KAI_ERR_SIGN_IN_LOCKED',
    429,
  );
}

/** People: accounts in an organisation, and sign-in sessions for the web UI. */
export async function peopleRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const tags = ['people'];

  app.post<{ Body: Static<typeof SignIn> }>(
    '/v1/session',
    {
      // Per client address, whatever headers it sends; the per-account lock below stops distributed guessing.
      config: {
        permission: null,
        rateLimit: { max: 10, timeWindow: 60_000, keyGenerator: (request) => `sign-in:${request.ip}` },
      },
      schema: {
        tags,
        summary: 'Sign in (sets an HttpOnly session cookie; answers the CSRF token for changes)',
        body: SignIn,
        response: { 200: SessionSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { email } = request.body;
      const lockedUntil = await ctx.signInFailures.lockedUntil(email);
      if (lockedUntil) throw lockedError(lockedUntil);
      const user = await ctx.users.verify(email, request.body.password);
      // The same answer for an unknown email and a wrong password: no account enumeration.
      if (!user) {
        const failure = await ctx.signInFailures.recordFailure(email);
        if (failure.lockedUntil) throw lockedError(failure.lockedUntil);
        throw new AuthError('email or password is wrong', 'KAI_ERR_SIGN_IN_FAILED');
      }
      await ctx.signInFailures.clear(email);
      const { token, session } = await ctx.accounts.startSession(user);
      reply.setCookie(SESSION_COOKIE, token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: ctx.config.http.secureCookies && request.protocol === 'https',
        path: '/',
        maxAge: SESSION_TTL_MS / 1000,
      });
      return {
        user: userView(user),
        csrf_token: session.csrfToken,
        expires_at: session.expiresAt,
      };
    },
  );

  app.get(
    '/v1/session',
    {
      config: {},
      schema: {
        tags,
        summary: 'The signed-in person (session cookie)',
        response: { 200: SessionSchema, ...errorResponses },
      },
    },
    async (request) => {
      const cookie = request.cookies[SESSION_COOKIE];
      const session = cookie ? await ctx.sessions.lookup(cookie) : null;
      if (!session) throw new AuthError('not signed in', 'KAI_ERR_SESSION_INVALID');
      const u = session.user;
      return {
        user: userView(u),
        csrf_token: session.csrfToken,
        expires_at: session.expiresAt,
      };
    },
  );

  app.delete(
    '/v1/session',
    {
      config: {},
      schema: { tags, summary: 'Sign out', response: { 204: Type.Null({ description: 'signed out' }) } },
    },
    async (request, reply) => {
      const cookie = request.cookies[SESSION_COOKIE];
      if (cookie) await ctx.sessions.revoke(cookie);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send();
    },
  );

  app.post<{ Body: Static<typeof CreateUser> }>(
    '/v1/users',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags,
        summary: 'Create an account for a person in your organisation',
        body: CreateUser,
        response: { 201: NewUser, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const b = request.body;
      const user = await ctx.accounts.createUser(principal.label, principal.orgId, {
        email: b.email,
        displayName: b.display_name,
        role: b.role,
        password: b.password,
      });
      return reply.status(201).send({
        id: user.id,
        email: user.email,
        display_name: user.displayName,
        role: user.role,
        organisation_id: user.orgId,
      });
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/v1/users/:id/unlock',
    {
      config: { permission: 'users:manage' },
      schema: {
        tags,
        summary: "Clear a person's failed sign-ins (and the lock they caused)",
        params: IdParams,
        response: {
          200: Type.Object({
            id: Id,
            unlocked: Type.Boolean({ description: 'false when it was not locked' }),
          }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const user = await ctx.users.get(request.params.id);
      if (!user || user.orgId !== principal.orgId)
        throw new NotFoundError(`user ${request.params.id} not found`);
      const cleared = await ctx.accounts.unlockUser(principal.label, principal.orgId, user);
      return { id: user.id, unlocked: cleared };
    },
  );
}
