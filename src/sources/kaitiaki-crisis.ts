/**
 * A hub's crisis feed as a source: every incident bank the member accepted, through one cursor
 * (`GET <hub>/v1/crisis/feed/changes?after=<seq>`). One subscription covers every incident to come: when the hub
 * activates an incident, its hashes (labelled `incident:<id>` and `crisis-active` while it is live) arrive as soon
 * as they commit: the member keeps a long poll open on the hub (asked again at once when it returns). A member offline during an activation gets
 * the incident bank when it is back. Pages are checked against the pinned hub key like `kaitiaki` collections.
 */
import { ValidationError } from '../core/errors.js';
import {
  fetchHubPage,
  HUB_LONG_POLL_MS,
  parseHubConnection,
  verifiedHubRecords,
  type HubConfig,
} from './kaitiaki-hub.js';
import { SourceError } from './fetch.js';
import type { SourceKind, SourcePage } from './source.js';

export type CrisisFeedConfig = Omit<HubConfig, 'collectionId'>;

const FIELDS = ['hub_url', 'api_key', 'hub_public_key'];

export const kaitiakiCrisisSource: SourceKind<CrisisFeedConfig> = {
  name: 'kaitiaki-crisis',
  description:
    "a hub's incident banks (crisis response): every incident bank your organisation accepted, one feed, polled every second",
  defaultIntervalSeconds: 1,
  minIntervalSeconds: 1,
  configFields: [
    { name: 'hub_url', type: 'string', required: true, description: "the hub's base URL" },
    {
      name: 'api_key',
      type: 'string',
      required: true,
      secret: true,
      description: "your organisation's key on the hub (a role with crisis:read)",
    },
    {
      name: 'hub_public_key',
      type: 'string',
      required: true,
      description: "the hub's Ed25519 public key (PEM), from its operator or GET /v1/sharing/instance",
    },
  ],
  parseConfig(raw: unknown): CrisisFeedConfig {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new ValidationError(
        'a kaitiaki-crisis configuration is an object {hub_url, api_key, hub_public_key}',
      );
    const c = raw as Record<string, unknown>;
    const unknown = Object.keys(c).filter((k) => !FIELDS.includes(k));
    if (unknown.length) throw new ValidationError(`unknown kaitiaki-crisis setting(s) ${unknown.join(', ')}`);
    return parseHubConnection(c);
  },
  redact: (config) => ({ hub_url: config.hubUrl, api_key: '(set)' }),
  create(config, deps) {
    return {
      async fetchPage(checkpoint: string | null): Promise<SourcePage> {
        const after = checkpoint === null ? 0 : Number(checkpoint);
        if (!Number.isSafeInteger(after) || after < 0)
          throw new SourceError(`the checkpoint ${JSON.stringify(checkpoint)} is not a hub sequence number`);
        // A long poll: the hub answers as soon as an incident hash commits, or after a short wait without one.
        const url = new URL('v1/crisis/feed/changes', config.hubUrl);
        url.searchParams.set('wait_ms', String(HUB_LONG_POLL_MS));
        const page = await fetchHubPage(url, after, config.apiKey, deps, 'the crisis feed');
        // Only the incident banks the page's signature covers are genuine: a record of any other is quarantined.
        return {
          records: verifiedHubRecords(page, after, config.hubPublicKey, () => true),
          checkpoint: String(page.next_after),
          hasMore: page.more === true,
          again: true,
          combinable: true,
        };
      },
    };
  },
};
