/** Schemas of hash sharing shared by the hub's routes and the member's. */
import { Type } from 'typebox';

/** What a hub answers for a contribution batch (and a member hands on to its caller). */
export const ReceivedBatchView = Type.Object({
  batch: Type.String({ description: "the batch's own id, chosen by the contributing instance" }),
  id: Type.Integer(),
  added: Type.Integer(),
  present: Type.Integer({ description: 'already in the collection: counted, not added twice' }),
  retracted: Type.Integer(),
  replayed: Type.Boolean({ description: 'the batch had been received before: nothing applied again' }),
});
