/**
 * A bank's label taxonomy: the labels its entries may carry. Everyone who sees the bank (its owner and the
 * organisations that accepted it) reads it; its owner and moderators change it, from a preset or as a list.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { TAXONOMY_PRESET_KEYS } from '../../banks/taxonomy-presets.js';
import type { AppContext } from '../../context.js';
import { MAX_TAXONOMY_LABELS } from '../../store/taxonomies.js';
import { principalOf } from '../plugins/auth.js';
import { errorResponses, IdParams } from '../schemas/common.js';
import { TaxonomyView } from '../schemas/views.js';
import { taxonomyView } from '../views.js';

const tags = ['banks'];
const TaxonomyLabel = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 64 }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    group: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
const PutTaxonomy = Type.Union([
  Type.Object(
    { preset: Type.Union(TAXONOMY_PRESET_KEYS.map((k) => Type.Literal(k))) },
    { additionalProperties: false },
  ),
  Type.Object(
    { labels: Type.Array(TaxonomyLabel, { maxItems: MAX_TAXONOMY_LABELS }) },
    { additionalProperties: false },
  ),
]);

export async function taxonomyRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/banks/:id/taxonomy',
    {
      config: { permission: 'banks:read' },
      schema: {
        tags,
        summary: "A bank's label taxonomy (no labels: the bank accepts any label)",
        params: IdParams,
        response: { 200: TaxonomyView, ...errorResponses },
      },
    },
    async (request) => {
      const bank = await ctx.banks.getVisible(principalOf(request).orgId, request.params.id);
      return taxonomyView(bank.id, await ctx.taxonomies.get(bank.id));
    },
  );

  app.put<{ Params: Static<typeof IdParams>; Body: Static<typeof PutTaxonomy> }>(
    '/v1/banks/:id/taxonomy',
    {
      config: { permission: 'banks:write' },
      schema: {
        tags,
        summary: "Set a bank's label taxonomy (owner or moderator): a preset, or the labels; [] removes it",
        description:
          `{"preset": one of ${TAXONOMY_PRESET_KEYS.join(', ')}} copies a preset shipped with Kaitiaki into the bank; ` +
          '{"labels":[{"key","description"?,"group"?}]} sets them as given. Entries written afterwards may carry only ' +
          'these labels (and the labels the system sets, such as incident:<id>); entries already stored are kept.',
        params: IdParams,
        body: PutTaxonomy,
        response: { 200: TaxonomyView, ...errorResponses },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const body = request.body;
      const { bank, taxonomy } = await ctx.bankWrites.setTaxonomy(
        p.label,
        p.orgId,
        request.params.id,
        'preset' in body
          ? { preset: body.preset }
          : {
              labels: body.labels.map((l) => ({
                key: l.key,
                description: l.description ?? '',
                group: l.group ?? '',
              })),
            },
      );
      return taxonomyView(bank.id, taxonomy);
    },
  );
}
