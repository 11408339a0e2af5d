/**
 * Fetching media by URL for URL submissions. Only hosts on an explicit allow-list (the platform's own media
 * hosts) are fetched: anything else would let a caller make this server request arbitrary addresses (SSRF).
 * Redirects are not followed; the body is streamed with a size limit.
 */
import { MediaError, ValidationError } from '../core/errors.js';
import { parseHttpUrl } from '../core/outbound.js';

export interface FetchPolicy {
  allowedHosts: string[];
  maxBytes: number;
  timeoutMs?: number;
}

export function checkFetchable(url: string, policy: FetchPolicy): URL {
  const parsed = parseHttpUrl(url, 'media');
  if (policy.allowedHosts.length === 0) {
    throw new ValidationError(
      'URL submissions are off: set KAITIAKI_FETCH_ALLOWED_HOSTS to your media hosts, or send the file or its signals',
      'KAI_ERR_URL_FETCH_DISABLED',
    );
  }
  if (
    !policy.allowedHosts.includes(parsed.host.toLowerCase()) &&
    !policy.allowedHosts.includes(parsed.hostname.toLowerCase())
  ) {
    throw new ValidationError(
      `"${parsed.host}" is not an allowed media host (KAITIAKI_FETCH_ALLOWED_HOSTS)`,
      'KAI_ERR_URL_HOST_NOT_ALLOWED',
    );
  }
  return parsed;
}

export async function fetchMedia(url: string, policy: FetchPolicy): Promise<Buffer> {
  const parsed = checkFetchable(url, policy);
  const response = await fetch(parsed, {
    redirect: 'manual',
    signal: AbortSignal.timeout(policy.timeoutMs ?? 60_000),
  });
  if (response.status >= 300 && response.status < 400)
    throw new MediaError(
      `the media URL redirects (${response.status}); send the final URL`,
      'KAI_ERR_MEDIA_FETCH',
    );
  if (!response.ok || !response.body)
    throw new MediaError(`fetching the media failed: HTTP ${response.status}`, 'KAI_ERR_MEDIA_FETCH');
  const declared = Number(response.headers.get('content-length'));
  if (declared > policy.maxBytes)
    throw new MediaError(
      `the media is ${declared} bytes, over the limit of ${policy.maxBytes}`,
      'KAI_ERR_MEDIA_TOO_LARGE',
    );
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > policy.maxBytes)
      throw new MediaError(
        `the media is over the limit of ${policy.maxBytes} bytes`,
        'KAI_ERR_MEDIA_TOO_LARGE',
      );
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
