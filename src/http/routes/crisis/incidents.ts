/**
 * Crisis response over HTTP: protocols, the coordinator's network, incidents and their activations. Thin handlers
 * over CrisisService (src/crisis/). Reading needs `crisis:observe`; a caller without `crisis:read` is an observer
 * and gets the record without evidence references or the incident bank.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../../context.js';
import type { CrisisCaller } from '../../../crisis/crisis-service.js';
import { ART48_SECTIONS, NOTIFY_GROUPS } from '../../../crisis/protocols.js';
import { CONCLUSION_BASES, STATES } from '../../../crisis/states.js';
import { principalOf } from '../../plugins/auth.js';
import { errorResponses, IdParams, PageQuery } from '../../schemas/common.js';
import {
  IncidentSchema,
  IncidentSummarySchema,
  ParticipantSchema,
  ProtocolSchema,
} from '../../schemas/crisis.js';
import { ItemsOf, PageOf } from '../../schemas/views.js';

const tags = ['crisis'];
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Key = Type.String({ minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$' });
const Text = (max: number, min = 0) => Type.String({ minLength: min, maxLength: max });
const strict = { additionalProperties: false } as const;

export function crisisCaller(request: FastifyRequest): CrisisCaller {
  const p = principalOf(request);
  return { orgId: p.orgId, label: p.label, observer: !p.permissions.has('crisis:read') };
}

const ProtocolBody = Type.Object(
  {
    key: Key,
    name: Text(200, 1),
    description: Text(4000),
    roles: Type.Array(Type.Object({ key: Key, label: Text(200, 1) }, strict), { maxItems: 50 }),
    types: Type.Array(
      Type.Object(
        {
          key: Key,
          label: Text(200, 1),
          criteria: Type.Array(Type.Object({ key: Key, label: Text(500, 1) }, strict), { maxItems: 30 }),
          hash_sharing: Type.Boolean(),
          notify: Type.Array(literals(NOTIFY_GROUPS), { maxItems: NOTIFY_GROUPS.length }),
        },
        strict,
      ),
      { maxItems: 20 },
    ),
    activation: Type.Object(
      {
        decider_roles: Type.Array(Key, { maxItems: 20 }),
        min_deciders: Type.Integer({ minimum: 1, maximum: 50 }),
      },
      strict,
    ),
    ack_minutes: Type.Integer({ minimum: 1, maximum: 24 * 60 }),
    review_after_hours: Type.Integer({ minimum: 1, maximum: 24 * 30 }),
    sections: Type.Object(
      {
        parameters: Text(10_000),
        roles_and_measures: Text(10_000),
        activation_procedure: Text(10_000),
        duration: Text(10_000),
        safeguards: Text(10_000),
        public_reporting: Text(10_000),
      },
      { ...strict, description: `DSA Art. 48 (a)-(f): ${ART48_SECTIONS.join(', ')}` },
    ),
  },
  strict,
);

const ParticipantBody = Type.Object(
  {
    groups: Type.Array(literals(NOTIFY_GROUPS), { maxItems: NOTIFY_GROUPS.length }),
    roles: Type.Array(Key, { maxItems: 20 }),
    contacts: Type.Array(
      Type.Object(
        {
          name: Text(200, 1),
          webhook_url: Type.Optional(Type.String({ maxLength: 2000, pattern: '^https?://' })),
          email: Type.Optional(Type.String({ maxLength: 320, pattern: '^[^@\\s]+@[^@\\s]+$' })),
        },
        strict,
      ),
      { maxItems: 10 },
    ),
    accepts_incident_banks: Type.Boolean(),
    incident_policy: Type.Optional(literals(['block', 'review-urgent', 'review', 'log'] as const)),
  },
  strict,
);

const IncidentBody = Type.Object(
  {
    title: Text(300, 1),
    summary: Type.Optional(Text(10_000)),
    occurred_at: Type.Optional(Text(40, 10)),
    zone: Type.Optional(Text(64, 1)),
    countries: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Z]{2}$' }), { maxItems: 50 })),
    exercise: Type.Optional(Type.Boolean()),
    protocols: Type.Optional(Type.Array(Key, { maxItems: 10 })),
  },
  strict,
);

const HumanRights = Type.Object(
  {
    necessity: Text(4000, 3),
    proportionality: Text(4000, 3),
    scope: Text(4000, 3),
    bystander_content: Type.Boolean(),
    bystander_decision: Type.Optional(Text(4000)),
  },
  strict,
);

const TransitionBody = Type.Object(
  {
    to: literals(STATES),
    reason: Text(4000, 3),
    zone: Type.Optional(Text(64, 1)),
    type: Type.Optional(Key),
    basis: Type.Optional(literals(CONCLUSION_BASES)),
    basis_text: Type.Optional(Text(4000)),
  },
  strict,
);

const OrgParams = Type.Object({ orgId: Type.Integer({ minimum: 1 }) }, strict);
const KeyParams = Type.Object({ key: Key }, strict);

export async function crisisIncidentRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const crisis = ctx.crisis;

  app.get(
    '/v1/crisis/protocols',
    {
      config: { permission: 'crisis:observe' },
      schema: {
        tags,
        summary: 'Protocols you can run: the newest version of each (presets and your own)',
        response: { 200: ItemsOf(ProtocolSchema), ...errorResponses },
      },
    },
    async (request) => ({ items: await crisis.protocols(crisisCaller(request)) }),
  );

  app.get<{ Params: Static<typeof KeyParams> }>(
    '/v1/crisis/protocols/:key/versions',
    {
      config: { permission: 'crisis:observe' },
      schema: {
        tags,
        summary: 'Every version of a protocol',
        params: KeyParams,
        response: { 200: ItemsOf(ProtocolSchema), ...errorResponses },
      },
    },
    async (request) => ({ items: await crisis.protocolVersions(crisisCaller(request), request.params.key) }),
  );

  app.post<{ Body: Static<typeof ProtocolBody> }>(
    '/v1/crisis/protocols',
    {
      config: { permission: 'crisis:coordinate' },
      schema: {
        tags,
        summary: 'Save a protocol (a new version; incidents keep the version they were activated under)',
        body: ProtocolBody,
        response: { 201: ProtocolSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await crisis.saveProtocol(crisisCaller(request), request.body)),
  );

  app.get(
    '/v1/crisis/participants',
    {
      config: { permission: 'crisis:coordinate' },
      schema: {
        tags,
        summary: 'Your crisis network: members, governments, observers, other mechanisms',
        response: { 200: ItemsOf(ParticipantSchema), ...errorResponses },
      },
    },
    async (request) => ({ items: await crisis.participants(crisisCaller(request)) }),
  );

  app.put<{ Params: Static<typeof OrgParams>; Body: Static<typeof ParticipantBody> }>(
    '/v1/crisis/participants/:orgId',
    {
      config: { permission: 'crisis:coordinate' },
      schema: {
        tags,
        summary:
          'Add an organisation to your crisis network, or change its groups, roles, contacts and consent',
        params: OrgParams,
        body: ParticipantBody,
        response: { 200: ParticipantSchema, ...errorResponses },
      },
    },
    async (request) => crisis.setParticipant(crisisCaller(request), request.params.orgId, request.body),
  );

  app.delete<{ Params: Static<typeof OrgParams> }>(
    '/v1/crisis/participants/:orgId',
    {
      config: { permission: 'crisis:coordinate' },
      schema: {
        tags,
        summary: 'Remove an organisation from your crisis network',
        params: OrgParams,
        response: { 204: Type.Null({ description: 'removed' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      await crisis.removeParticipant(crisisCaller(request), request.params.orgId);
      return reply.status(204).send();
    },
  );

  app.post<{ Body: Static<typeof IncidentBody> }>(
    '/v1/crisis/incidents',
    {
      config: { permission: 'crisis:coordinate' },
      schema: {
        tags,
        summary: 'Report an incident (optionally opening its assessment under protocols at once)',
        body: IncidentBody,
        response: { 201: IncidentSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await crisis.report(crisisCaller(request), request.body)),
  );

  const ListQuery = Type.Object({ ...PageQuery.properties, exercise: Type.Optional(Type.Boolean()) }, strict);
  app.get<{ Querystring: Static<typeof ListQuery> }>(
    '/v1/crisis/incidents',
    {
      config: { permission: 'crisis:observe' },
      schema: {
        tags,
        summary: 'Incidents you coordinate or take part in',
        querystring: ListQuery,
        response: { 200: PageOf(IncidentSummarySchema), ...errorResponses },
      },
    },
    async (request) => {
      const page = await crisis.list(crisisCaller(request), request.query);
      return { items: page.items, next_cursor: page.nextCursor };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/crisis/incidents/:id',
    {
      config: { permission: 'crisis:observe' },
      schema: {
        tags,
        summary: 'The record of an incident',
        params: IdParams,
        response: { 200: IncidentSchema, ...errorResponses },
      },
    },
    async (request) => crisis.incident(crisisCaller(request), request.params.id),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: { protocol: string } }>(
    '/v1/crisis/incidents/:id/activations',
    {
      config: { permission: 'crisis:coordinate' },
      schema: {
        tags,
        summary: 'Assess the incident under one more protocol',
        params: IdParams,
        body: Type.Object({ protocol: Key }, strict),
        response: { 201: IncidentSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await crisis.openActivation(crisisCaller(request), request.params.id, request.body.protocol)),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: { text: string } }>(
    '/v1/crisis/incidents/:id/updates',
    {
      config: { permission: 'crisis:coordinate' },
      schema: {
        tags,
        summary: 'Post a situational-awareness update (the incident bank numbers are stamped on it)',
        params: IdParams,
        body: Type.Object({ text: Text(10_000, 1) }, strict),
        response: { 201: IncidentSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await crisis.postUpdate(crisisCaller(request), request.params.id, request.body.text)),
  );

  const CriterionBody = Type.Object(
    {
      criterion: Key,
      met: Type.Boolean(),
      evidence: Type.Optional(Type.Array(Text(2000, 1), { maxItems: 50 })),
      note: Type.Optional(Text(4000)),
    },
    strict,
  );
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof CriterionBody> }>(
    '/v1/crisis/activations/:id/criteria',
    {
      config: { permission: 'crisis:decide' },
      schema: {
        tags,
        summary: 'Assert a criterion of the protocol as met or not, with evidence references',
        params: IdParams,
        body: CriterionBody,
        response: { 200: IncidentSchema, ...errorResponses },
      },
    },
    async (request) => crisis.assertCriterion(crisisCaller(request), request.params.id, request.body),
  );

  const DecisionBody = Type.Object(
    { type: Key, rationale: Text(10_000, 3), human_rights: HumanRights },
    strict,
  );
  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof DecisionBody> }>(
    '/v1/crisis/activations/:id/decisions',
    {
      config: { permission: 'crisis:decide' },
      schema: {
        tags,
        summary: 'Record your decision to activate a type, with its rationale and human-rights note',
        params: IdParams,
        body: DecisionBody,
        response: { 200: IncidentSchema, ...errorResponses },
      },
    },
    async (request) => crisis.decide(crisisCaller(request), request.params.id, request.body),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof TransitionBody> }>(
    '/v1/crisis/activations/:id/transitions',
    {
      config: { permission: 'crisis:coordinate' },
      schema: {
        tags,
        summary: 'Move an activation to its next state (409 names the states it can go to)',
        params: IdParams,
        body: TransitionBody,
        response: { 200: IncidentSchema, ...errorResponses },
      },
    },
    async (request) => crisis.transition(crisisCaller(request), request.params.id, request.body),
  );
}
