/**
 * Extension point #2: a source of signals from outside (an external hash list, a CSV or JSON-lines file or URL;
 * next, another Kaitiaki hub or an alert feed). A source is polled: given the checkpoint it returned last time
 * (an opaque string, null at first), it answers one page of records and the checkpoint that follows that page.
 * The SourceRunner (runner.ts) validates every record, stores the good ones in the subscription's read-only mirror
 * bank, quarantines the bad ones, and saves the new checkpoint in the same transaction as the writes.
 *
 * Adding a source is one new file exporting a SourceKind plus one line in registry.ts.
 */

/** One signal as the source has it now: added or changed. */
export interface SourceUpsert {
  op: 'upsert';
  /** A signal type name from src/signals/registry.ts ('pdq', 'md5', ...). */
  signalType: string;
  /** As the source sent it; the runner validates and canonicalises it (normalizeSignal). */
  value: unknown;
  labels?: string[];
  /** The source's own id for the record, kept on the entry. */
  externalId?: string | null;
  note?: string | null;
  /** When the source says the record was created and last changed (ISO 8601), where it says. */
  createdAt?: string | null;
  updatedAt?: string | null;
}

/** One signal the source no longer lists. */
export interface SourceDelete {
  op: 'delete';
  signalType: string;
  value: unknown;
  externalId?: string | null;
}

/** A record the source could not even parse (the runner quarantines it with the reason). */
export interface SourceUnreadable {
  op: 'unreadable';
  reason: string;
}

export type SourceRecord = (SourceUpsert | SourceDelete | SourceUnreadable) & {
  /** The record as received, kept in quarantine if it is bad (JSON text or the raw line). */
  raw: string;
  /** Where it was in what the source sent (`line 12`), put before quarantine reasons. */
  where?: string;
};

export interface SourcePage {
  records: SourceRecord[];
  /** The checkpoint after this page; saved with the page's writes. Null keeps the current one. */
  checkpoint: string | null;
  /** More pages are ready now: the runner asks again at once instead of waiting for the next interval. */
  hasMore: boolean;
  /**
   * The page is the whole list (a full fetch of a file): every entry of the mirror bank that the page does not
   * upsert is deleted.
   */
  snapshot?: boolean;
  /**
   * A long-polling source (the hub held the request until something changed or its wait ended): ask again at once
   * rather than at the next interval, caught up or not.
   */
  again?: boolean;
  /** Records still to fetch after this page, when the source says. */
  lagRecords?: number | null;
  /**
   * While more pages are ready, the runner may store several in one transaction (a hub's change pages: one
   * sequence, nothing to fetch twice). Sources that leave it unset are stored page by page.
   */
  combinable?: boolean;
}

export interface Source {
  /** One page from the checkpoint; throws (a KaitiakiError with a clear message) when the source fails. */
  fetchPage(checkpoint: string | null): Promise<SourcePage>;
}

/** What a source may use: the outbound policy and limits, set by the operator. */
export interface SourceDeps {
  /** Hosts (host or host:port) a source may reach although internal or plain http (KAITIAKI_SOURCE_ALLOWED_HOSTS). */
  allowedHosts: readonly string[];
  /** The directory local list files must be under (KAITIAKI_SOURCE_FILE_ROOT); null: no local files. */
  fileRoot: string | null;
  timeoutMs: number;
  maxBytes: number;
}

/** A field of a kind's configuration, for forms (HMA's /c/exchanges/api/<api>/schema). */
export interface SourceConfigField {
  name: string;
  type: 'string' | 'number' | 'boolean';
  required: boolean;
  secret?: boolean;
  description: string;
}

export interface SourceKind<Config = Record<string, unknown>> {
  /** Stable name, lower case: 'tcap', 'list'. */
  readonly name: string;
  readonly description: string;
  /** Other names accepted on the way in (HMA's exchange API names: 'tat' for TCAP). */
  readonly aliases?: readonly string[];
  readonly configFields: readonly SourceConfigField[];
  /** Default polling interval. */
  readonly defaultIntervalSeconds: number;
  /** The shortest interval allowed (default 30 s: external lists are not to be hammered). */
  readonly minIntervalSeconds?: number;
  /** Validates a configuration from outside (throws ValidationError saying what is wrong). */
  parseConfig(raw: unknown, deps: SourceDeps): Config;
  /** The configuration without secrets, for views. */
  redact(config: Config): Record<string, unknown>;
  create(config: Config, deps: SourceDeps): Source;
}
