/** Outbound requests for sources, under the one outbound policy, with the failure named in a KaitiakiError. */
import { KaitiakiError, ValidationError } from '../core/errors.js';
import { OutboundError, parseHttpUrl, requestOutbound, type OutboundGetResponse } from '../core/outbound.js';
import type { SourceDeps } from './source.js';

export const SOURCE_ALLOW_LIST = 'KAITIAKI_SOURCE_ALLOWED_HOSTS';

/** A source that failed (network, timeout, HTTP status, unreadable answer): the run is recorded as failed. */
export class SourceError extends KaitiakiError {
  override name = 'SourceError';
  constructor(message: string, code = 'KAI_ERR_SOURCE_FAILED') {
    super(code, message, 502, 1);
  }
}

/** Checks a source URL when a subscription is made: http(s), no user info. */
export function sourceUrl(raw: unknown, field: string): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2048)
    throw new ValidationError(`${field} must be an http(s) URL of at most 2048 characters`);
  const url = parseHttpUrl(raw, 'source');
  if (url.username || url.password)
    throw new ValidationError(`${field} may not carry a user name or password`, 'KAI_ERR_BAD_URL');
  return url.toString();
}

export function sourceGet(
  url: string,
  headers: Record<string, string>,
  deps: SourceDeps,
): Promise<OutboundGetResponse> {
  return sourceRequest('GET', url, headers, null, deps);
}

export async function sourceRequest(
  method: 'GET' | 'POST',
  url: string,
  headers: Record<string, string>,
  body: string | null,
  deps: SourceDeps,
): Promise<OutboundGetResponse> {
  try {
    return await requestOutbound(
      method,
      url,
      headers,
      body,
      { allowedHosts: deps.allowedHosts },
      {
        timeoutMs: deps.timeoutMs,
        maxBytes: deps.maxBytes,
        allowListName: SOURCE_ALLOW_LIST,
        what: 'the list',
      },
    );
  } catch (err) {
    if (err instanceof OutboundError) throw new SourceError(err.message, err.code);
    if (err instanceof KaitiakiError) throw new SourceError(err.message, err.code);
    throw new SourceError(`fetching ${new URL(url).host} failed: ${(err as Error).message}`);
  }
}

/** A short, safe excerpt of a body for error messages. */
export function excerpt(body: Buffer): string {
  return JSON.stringify(body.subarray(0, 200).toString('utf8'));
}
