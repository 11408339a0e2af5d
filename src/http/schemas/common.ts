/** Schemas shared by routes (TypeBox: JSON Schema with static types). */
import { Type } from 'typebox';

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
export const BankEntryParams = Type.Object(
  { id: Type.Integer({ minimum: 1 }), entryId: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export const PageQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
export const Labels = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 });
export const SignalTypeName = Type.String({ minLength: 1, maxLength: 32 });
export const Signal = Type.Object(
  {
    type: SignalTypeName,
    // vPDQ values are JSON arrays of frames, so they can be long; the body limit bounds the total.
    value: Type.String({ minLength: 1, maxLength: 8_000_000 }),
  },
  { additionalProperties: false },
);
export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String(),
  message: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
});
export const errorResponses = {
  400: Problem,
  401: Problem,
  403: Problem,
  404: Problem,
};
