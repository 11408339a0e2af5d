/**
 * Drills from the API: `POST /v1/crisis/drills` checks a scenario (the `kaitiaki drill run` file as JSON) against the
 * operator's source policy and starts it in the background; `GET /v1/crisis/drills/:id` tells whether it is running,
 * done (with the report) or failed. The drill calls the hub over HTTP like any client, so the body carries a
 * coordinator API key in `hub.key` (a signed-in session is not a key the drill can use); keys are never stored.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import type { AppContext } from '../../../context.js';
import { errorResponses, IdParams } from '../../schemas/common.js';
import { DrillRunSchema } from '../../schemas/crisis.js';
import { Id } from '../../schemas/views.js';
import { crisisCaller } from './incidents.js';

const tags = ['crisis'];
// The fields are checked by parseScenario (src/crisis/drill.ts), whose messages name what was wrong.
const ScenarioBody = Type.Object(
  { hub: Type.Object({ url: Type.String(), key: Type.String() }), members: Type.Array(Type.Object({})) },
  { additionalProperties: true },
);

export async function crisisDrillRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post<{ Body: Static<typeof ScenarioBody> }>(
    '/v1/crisis/drills',
    {
      config: { permission: 'crisis:coordinate' },
      schema: {
        tags,
        summary:
          'Start a drill (scenario as for `kaitiaki drill run`; hub.key a coordinator API key; hosts from KAITIAKI_SOURCE_ALLOWED_HOSTS, media under KAITIAKI_SOURCE_FILE_ROOT)',
        body: ScenarioBody,
        response: {
          202: Type.Object({ id: Id }, { description: 'the run started; poll it' }),
          ...errorResponses,
        },
      },
    },
    async (request, reply) =>
      reply.status(202).send(await ctx.drillRuns.start(crisisCaller(request), request.body)),
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/crisis/drills/:id',
    {
      config: { permission: 'crisis:observe' },
      schema: {
        tags,
        summary: 'A drill started from the API: running, done (with its report) or failed',
        params: IdParams,
        response: { 200: DrillRunSchema, ...errorResponses },
      },
    },
    async (request) => ctx.drillRuns.get(crisisCaller(request), request.params.id),
  );
}
