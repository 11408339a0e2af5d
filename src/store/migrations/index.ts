/** Every migration, in order. Append only; never reorder or edit a shipped one (no folder scan at run time). */
import type { Kysely } from 'kysely';
import type { DialectName } from '../dialect.js';
import * as init from './20261124T204000Z-init.js';
import * as audit from './20261124T220000Z-audit.js';
import * as review from './20261124T230000Z-review.js';
import * as reports from './20261124T231500Z-reports.js';
import * as sessions from './20261124T233000Z-sessions.js';
import * as media from './20261124T234000Z-media.js';
import * as trust from './20261203T140000Z-trust.js';
import * as entriesImport from './20261203T141000Z-entries-import.js';
import * as hmaRatio from './20261203T150000Z-hma-ratio.js';
import * as reviewConsole from './20261203T160000Z-review-console.js';
import * as ordersAppeals from './20261203T160000Z-orders-appeals.js';
import * as research from './20261203T170000Z-research.js';
import * as jobs from './20261203T190000Z-jobs.js';
import * as signalFeedback from './20261203T193000Z-signal-feedback.js';
import * as sharingFeed from './20261203T194000Z-sharing-feed.js';
import * as suppression from './20261203T195000Z-suppression.js';
import * as flood from './20261203T195500Z-flood.js';
import * as sources from './20261203T200100Z-sources.js';
import * as ordersRollupsPreservation from './20261203T201000Z-orders-rollups-preservation.js';
import * as crisis from './20261203T210000Z-crisis.js';
import * as contributions from './20261204T020000Z-contributions.js';
import * as collections from './20261204T030000Z-collections.js';

export interface DialectMigration {
  up(db: Kysely<unknown>, dialect: DialectName): Promise<void>;
  down?(db: Kysely<unknown>, dialect: DialectName): Promise<void>;
}

export const MIGRATIONS: ReadonlyArray<readonly [name: string, migration: DialectMigration]> = [
  ['20261124T204000Z-init', init],
  ['20261124T220000Z-audit', audit],
  ['20261124T230000Z-review', review],
  ['20261124T231500Z-reports', reports],
  ['20261124T233000Z-sessions', sessions],
  ['20261124T234000Z-media', media],
  ['20261203T140000Z-trust', trust],
  ['20261203T141000Z-entries-import', entriesImport],
  ['20261203T150000Z-hma-ratio', hmaRatio],
  ['20261203T160000Z-review-console', reviewConsole],
  ['20261203T160000Z-orders-appeals', ordersAppeals],
  ['20261203T170000Z-research', research],
  ['20261203T190000Z-jobs', jobs],
  ['20261203T193000Z-signal-feedback', signalFeedback],
  ['20261203T194000Z-sharing-feed', sharingFeed],
  ['20261203T195000Z-suppression', suppression],
  ['20261203T195500Z-flood', flood],
  ['20261203T200100Z-sources', sources],
  ['20261203T201000Z-orders-rollups-preservation', ordersRollupsPreservation],
  ['20261203T210000Z-crisis', crisis],
  ['20261204T020000Z-contributions', contributions],
  ['20261204T030000Z-collections', collections],
];
