/**
 * Type-level check, run by `npm run lint` (tsc over tsconfig.json): the web UI's hand-written view types stay
 * what the server sends. Each server view (what the route answers, checked against its 2xx schema by answerOf)
 * must be assignable to the type the UI reads it as; a field renamed or retyped on either side fails the build.
 * (The UI cannot import the server's modules: they pull in Node.)
 */
import type { IncidentSummary, IncidentView, ProtocolView } from '../../src/crisis/crisis-service.js';
import type { NotificationView } from '../../src/crisis/notifications.js';
import type {
  Incident,
  IncidentSummary as WebIncidentSummary,
  Notification,
  ProtocolVersion,
} from '../../web/src/features/crisis/types.js';

/** Compiles only when A is assignable to B. */
type Assignable<A extends B, B> = A;

export type CrisisViews = [
  Assignable<IncidentSummary, WebIncidentSummary>,
  Assignable<IncidentView, Incident>,
  Assignable<NotificationView, Notification>,
  Assignable<ProtocolView, ProtocolVersion>,
];
