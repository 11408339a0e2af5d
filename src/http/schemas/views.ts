/**
 * The API's answers, schema first: each view in ../views.ts is typed by its schema here, so the code cannot answer
 * a field the documentation lacks, and the schemas make the 2xx answers of /openapi.json.
 */
import { Type, type Static, type TSchema } from 'typebox';

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
export const Id = Type.Integer({ minimum: 1 });
export const Time = Type.String({ description: 'ISO 8601 time (UTC)' });

/** True when A and B are the same type, field for field (optional and nullable alike). */
export type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/**
 * The schema of an answer whose type is T, checked at compile time: Fastify serialises a 2xx answer through its
 * schema and drops any field the schema does not list, so a schema that lags behind the service's type must not
 * compile. Use: `const Order = answerOf<OrderView>()(Type.Object({ ... }))`.
 */
export const answerOf =
  <T>() =>
  <S extends TSchema>(
    schema: S &
      (Same<Static<S>, T> extends true ? unknown : { schemaDiffersFromAnswer: Differences<Static<S>, T> }),
  ): S =>
    schema;

/** Where a schema's type A and an answer's type B differ: the error answerOf shows, field by field. */
type Differences<A, B> =
  Same<A, B> extends true
    ? never
    : [A, B] extends [readonly (infer X)[], readonly (infer Y)[]]
      ? { items: Differences<X, Y> }
      : [NonNullable<A>, NonNullable<B>] extends [Record<string, unknown>, Record<string, unknown>]
        ? Same<null extends A ? 1 : 0, null extends B ? 1 : 0> extends true
          ? {
              [
                K in keyof A | keyof B as K extends keyof A & keyof B
                  ? Same<A[K], B[K]> extends true
                    ? never
                    : K
                  : K
              ]: K extends keyof A
                ? K extends keyof B
                  ? [Differences<NonNullable<A[K]>, NonNullable<B[K]>>] extends [never]
                    ? { schema: A[K]; answer: B[K] }
                    : Differences<NonNullable<A[K]>, NonNullable<B[K]>>
                  : 'missing from the answer'
                : 'missing from the schema';
            }
          : { schema: A; answer: B }
        : { schema: A; answer: B };

export const OrganisationView = Type.Object({
  id: Id,
  name: Type.String(),
  kind: Type.String(),
  created_at: Time,
});

export const ApiKeyView = Type.Object({
  id: Id,
  organisation_id: Id,
  name: Type.String(),
  prefix: Type.String({ description: 'the first characters of the key, to recognise it' }),
  role: Type.String(),
  created_at: Time,
  last_used_at: Nullable(Time),
  revoked_at: Nullable(Time),
});

export const BankView = Type.Object({
  id: Id,
  organisation_id: Id,
  name: Type.String(),
  description: Type.String(),
  default_labels: Type.Array(Type.String()),
  thresholds: Type.Record(Type.String(), Type.Number(), {
    description: 'signal type → inclusive distance threshold; types not listed use the default',
  }),
  enabled: Type.Boolean(),
  sharing: Type.String(),
  purpose: Type.Union([Type.Literal('detect'), Type.Literal('suppress')]),
  created_at: Time,
  updated_at: Time,
  managed_by: Type.Optional(
    Type.String({ description: 'a read-only mirror of an external list: the subscription that writes it' }),
  ),
  read_only: Type.Optional(Type.Literal(true)),
});

export const ShareRightsSchema = Type.Union([
  Type.Literal('read'),
  Type.Literal('contribute'),
  Type.Literal('moderate'),
]);

export const ShareView = Type.Object({
  organisation_id: Id,
  rights: ShareRightsSchema,
  can_contribute: Type.Boolean(),
  status: Type.Union([Type.Literal('offered'), Type.Literal('accepted')]),
  policy: Nullable(Type.String()),
});

export const IncomingShareView = Type.Object({
  bank_id: Id,
  bank_name: Type.String(),
  owner: Type.Object({ id: Id, name: Type.String() }),
  rights: ShareRightsSchema,
  can_contribute: Type.Boolean(),
  status: Type.Union([Type.Literal('offered'), Type.Literal('accepted')]),
  policy: Nullable(Type.String()),
  offered_at: Time,
  accepted_at: Nullable(Time),
});

export const TaxonomyLabelView = Type.Object({
  key: Type.String(),
  description: Type.String(),
  group: Type.String(),
});

export const TaxonomyView = Type.Object({
  bank_id: Id,
  /** The preset the labels came from; null when given by hand, or when the bank has no taxonomy. */
  preset: Nullable(Type.String()),
  /** Empty: the bank has no taxonomy and accepts any label. */
  labels: Type.Array(TaxonomyLabelView),
  updated_by: Nullable(Type.String()),
  updated_at: Nullable(Time),
});

export const EntryView = Type.Object({
  id: Id,
  bank_id: Id,
  signal_type: Type.String(),
  value: Type.String(),
  labels: Type.Array(Type.String()),
  contributor_organisation_id: Id,
  source: Type.String(),
  external_id: Nullable(Type.String()),
  note: Nullable(Type.String()),
  status: Type.String(),
  created_at: Time,
  updated_at: Time,
});

export const MatchView = Type.Object({
  signal_index: Type.Integer({ minimum: 0 }),
  signal_type: Type.String(),
  distance: Type.Number({ description: 'smaller is closer: Hamming distance, 0 for exact types' }),
  detail: Type.Optional(Type.String()),
  bank: Type.Object({ id: Id, name: Type.String(), organisation_id: Id }),
  entry: Type.Object({
    id: Id,
    labels: Type.Array(Type.String()),
    contributor_organisation_id: Id,
    source: Type.String(),
    external_id: Nullable(Type.String()),
  }),
});

/** A page of items and the cursor of the next page (null on the last). */
export const PageOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), next_cursor: Nullable(Type.String()) });

export const ItemsOf = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item) });
