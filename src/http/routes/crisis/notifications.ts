/**
 * Crisis notifications over HTTP: who was told of an activation and who acknowledged (through the API, or the
 * link in the notification, which needs no key), intervention resources, and interventions a participant asks
 * for. Thin handlers over CrisisNotifications (src/crisis/notifications.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../../context.js';
import {
  INTERVENTION_MODES,
  RESOURCE_KINDS,
  type AckLinkView,
  type CrisisNotifications,
} from '../../../crisis/notifications.js';
import { errorResponses, IdParams } from '../../schemas/common.js';
import { AckLinkSchema, NotificationSchema, ResourceSchema } from '../../schemas/crisis.js';
import { answerOf, ItemsOf } from '../../schemas/views.js';
import { crisisCaller } from './incidents.js';

const tags = ['crisis'];
const strict = { additionalProperties: false } as const;
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Locale = Type.String({ minLength: 2, maxLength: 35, description: 'A language tag: en, mi, mi-NZ…' });

// Any string up to a length reaches the handler: an altered token is answered 403 KAI_ERR_ACK_LINK, not 400.
const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, strict);

const ResourceBody = Type.Object(
  {
    kind: literals(RESOURCE_KINDS),
    locale: Locale,
    title: Type.String({ minLength: 1, maxLength: 200 }),
    url: Type.Optional(Type.String({ maxLength: 2000 })),
    message: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  strict,
);

const InterventionBody = Type.Object(
  {
    external_id: Type.String({ minLength: 1, maxLength: 500, description: 'Your own id of the content' }),
    mode: literals(INTERVENTION_MODES),
    locale: Locale,
  },
  strict,
);

/** The acknowledgement page: plain HTML, inline style, no script; its one form posts back to the same link. */
function ackPage(view: AckLinkView, done: boolean): string {
  const e = (text: string) =>
    text.replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
    );
  const state = view.acked
    ? `<p>Acknowledged at ${e(view.acked.local)}${view.late ? ' (after the due time)' : ''}.</p>`
    : `<p>Please acknowledge by ${e(view.due.local)}.</p>
<form method="post" enctype="text/plain"><button type="submit">Acknowledge</button></form>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>Acknowledge crisis notification</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
button{font-size:1.1rem;padding:.5rem 1.5rem}</style></head>
<body><h1>${done ? 'Thank you' : 'Crisis notification'}</h1>
<p><strong>${e(view.incident.title)}</strong>${view.incident.exercise ? ' (exercise)' : ''}</p>
<p>${e(view.activation.protocol)}: ${e(view.activation.type ?? '')} — ${e(view.activation.state)}</p>
<p>For ${e(view.contact_name)}.</p>
${state}
</body></html>`;
}

function sendPage(reply: FastifyReply, html: string) {
  return reply
    .header(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    )
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
}

const Page = Type.String({ description: 'an HTML page' });
const Intervention = answerOf<Awaited<ReturnType<CrisisNotifications['intervene']>>>()(
  Type.Object({
    action_id: Type.String({ description: 'the action delivered to your webhooks' }),
    resource: ResourceSchema,
  }),
);

const wantsHtml = (request: FastifyRequest) =>
  (request.headers.accept ?? '').includes('text/html') ||
  (request.headers['content-type'] ?? '').startsWith('text/plain');

export async function crisisNotificationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const notifications = ctx.crisisNotifications;

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/crisis/incidents/:id/notifications',
    {
      config: { permission: 'crisis:observe' },
      schema: {
        tags,
        summary:
          'Who was notified of the incident’s activations: sent, due, acknowledged (how, late), escalated (observers see no contact addresses)',
        params: IdParams,
        response: { 200: ItemsOf(NotificationSchema), ...errorResponses },
      },
    },
    async (request) => ({ items: await notifications.list(crisisCaller(request), request.params.id) }),
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/v1/crisis/notifications/:id/ack',
    {
      config: { permission: 'crisis:read' },
      schema: {
        tags,
        summary:
          'Acknowledge a crisis notification addressed to your organisation (late if after its due time)',
        params: IdParams,
        response: { 200: NotificationSchema, ...errorResponses },
      },
    },
    async (request) => notifications.acknowledge(crisisCaller(request), request.params.id),
  );

  app.get<{ Params: Static<typeof TokenParams> }>(
    '/v1/crisis/ack/:token',
    {
      config: { permission: null, secretPath: true },
      schema: {
        tags,
        summary:
          'The acknowledgement page of a notification link (no key needed; opening it acknowledges nothing)',
        params: TokenParams,
        response: { 200: { content: { 'text/html': { schema: Page } } }, ...errorResponses },
      },
    },
    async (request, reply) =>
      sendPage(reply, ackPage(await notifications.linkInfo(request.params.token), false)),
  );

  app.post<{ Params: Static<typeof TokenParams> }>(
    '/v1/crisis/ack/:token',
    {
      config: { permission: null, secretPath: true },
      schema: {
        tags,
        summary:
          'Acknowledge a crisis notification with the link it carried (403 KAI_ERR_ACK_LINK for a link Kaitiaki did not send)',
        params: TokenParams,
        response: {
          200: { content: { 'application/json': { schema: AckLinkSchema }, 'text/html': { schema: Page } } },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const view = await notifications.acknowledgeByLink(request.params.token);
      return wantsHtml(request) ? sendPage(reply, ackPage(view, true)) : view;
    },
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof ResourceBody> }>(
    '/v1/crisis/activations/:id/resources',
    {
      config: { permission: 'crisis:coordinate' },
      schema: {
        tags,
        summary:
          'Add an intervention resource to an activation: a redirect (https url), counter-speech or crisis-support text, per locale',
        params: IdParams,
        body: ResourceBody,
        response: { 201: ResourceSchema, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await notifications.addResource(crisisCaller(request), request.params.id, request.body)),
  );

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof InterventionBody> }>(
    '/v1/crisis/incidents/:id/interventions',
    {
      config: { permission: 'crisis:read' },
      schema: {
        tags,
        summary:
          'Have an intervention (interstitial or redirect, with the resource for your locale, else en) delivered to your own webhooks for one of your content ids',
        params: IdParams,
        body: InterventionBody,
        response: { 202: Intervention, ...errorResponses },
      },
    },
    async (request, reply) =>
      reply
        .status(202)
        .send(await notifications.intervene(crisisCaller(request), request.params.id, request.body)),
  );
}
