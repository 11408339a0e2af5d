import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { INSTANCE_PERMISSIONS, PERMISSIONS, ROLES } from '../../auth/roles.js';
import type { AppContext } from '../../context.js';
import { ORGANISATION_KINDS } from '../../store/organisations.js';
import { principalOf } from '../plugins/auth.js';
import { ApiKeyView, Id, ItemsOf, Nullable, OrganisationView } from '../schemas/views.js';
import { errorResponses } from '../schemas/common.js';
import { apiKeyView, organisationView } from '../views.js';

const CreateOrganisation = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    // 'instance' (the operators' own organisation) is made by `kaitiaki init` only.
    kind: Type.Optional(
      Type.Union(ORGANISATION_KINDS.filter((k) => k !== 'instance').map((k) => Type.Literal(k))),
    ),
    /** Also issue a first API key for the new organisation. */
    admin_key: Type.Optional(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 100 }),
          role: Type.Union(ROLES.map((r) => Type.Literal(r))),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const Me = Type.Object({
  organisation: OrganisationView,
  role: Type.String(),
  permissions: Type.Array(Type.Enum([...PERMISSIONS, ...INSTANCE_PERMISSIONS])),
  key_id: Nullable(Id),
  instance_admin: Type.Boolean(),
});
const NewOrganisation = Type.Object({
  organisation: OrganisationView,
  api_key: Type.Optional(
    Type.Object(
      { key: Type.String({ description: 'shown only here' }), ...ApiKeyView.properties },
      { description: 'the first administrator key, when asked for' },
    ),
  ),
});

export async function organisationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/v1/me',
    {
      config: {},
      schema: {
        tags: ['organisations'],
        summary: 'Who the API key belongs to',
        response: { 200: Me, ...errorResponses },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return {
        organisation: organisationView(await ctx.organisations.get(principal.orgId)),
        role: principal.role,
        permissions: [...principal.permissions].sort(),
        key_id: principal.keyId ?? null,
        instance_admin: principal.instanceAdmin === true,
      };
    },
  );

  app.post<{ Body: Static<typeof CreateOrganisation> }>(
    '/v1/organisations',
    {
      config: { permission: 'instance:organisations' },
      schema: {
        tags: ['organisations'],
        summary: 'Create an organisation (instance administrators)',
        body: CreateOrganisation,
        response: { 201: NewOrganisation, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { admin_key: firstKey } = request.body;
      const { org, key } = await ctx.accounts.createOrganisation(
        principal.label,
        principal.orgId,
        { name: request.body.name, kind: request.body.kind },
        firstKey,
      );
      return reply.status(201).send({
        organisation: organisationView(org),
        ...(key ? { api_key: { key: key.key, ...apiKeyView(key.info) } } : {}),
      });
    },
  );

  app.get(
    '/v1/organisations',
    {
      config: { permission: 'instance:organisations' },
      schema: {
        tags: ['organisations'],
        summary: 'List organisations',
        response: { 200: ItemsOf(OrganisationView), ...errorResponses },
      },
    },
    async () => ({
      items: (await ctx.organisations.list()).map(organisationView),
    }),
  );
}
