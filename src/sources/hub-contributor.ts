/**
 * The member side of contributing: a member organisation sends signals to a collection it follows on a hub
 * (a `kaitiaki` subscription whose share lets it contribute). The batch is signed with this instance's own key;
 * the first time, the hub answers that the instance has not joined, and the member registers its public key with
 * the hub (`POST /v1/sharing/join`) and sends the batch again. The hub's answer, or its refusal with its own code
 * and status, is handed back as it is.
 */
import { KaitiakiError, RateLimitedError, ValidationError } from '../core/errors.js';
import { signBatch, type ContributionItem, type ReceivedBatch } from '../sharing/contributions.js';
import type { InstanceIdentity } from '../store/sharing-feed.js';
import { excerpt, sourceRequest } from './fetch.js';
import { kaitiakiHubSource } from './kaitiaki-hub.js';
import type { SourceDeps } from './source.js';

/** A refusal from the hub, with the hub's own status and code. */
export class HubRefusal extends KaitiakiError {
  override name = 'HubRefusal';
  constructor(status: number, code: string, message: string) {
    super(code, `the hub refused the contribution: ${message}`, status);
  }
}

export async function contributeToHub(
  subscription: { kind: string; config: unknown },
  items: ContributionItem[],
  identity: InstanceIdentity,
  deps: SourceDeps,
): Promise<ReceivedBatch> {
  if (subscription.kind !== kaitiakiHubSource.name)
    throw new ValidationError(
      'only a kaitiaki subscription (a collection on another Kaitiaki) takes contributions',
      'KAI_ERR_NOT_A_HUB_SUBSCRIPTION',
    );
  const config = kaitiakiHubSource.parseConfig(subscription.config, deps);
  const signed = signBatch(identity, config.collectionId, items);
  const headers = {
    authorization: `Bearer ${config.apiKey}`,
    'content-type': 'application/json',
    accept: 'application/json',
  };
  const send = () =>
    sourceRequest(
      'POST',
      new URL(`v1/sharing/banks/${config.collectionId}/contributions`, config.hubUrl).toString(),
      headers,
      JSON.stringify(signed),
      deps,
    );
  let response = await send();
  if (response.status === 403 && codeOf(response.body) === 'KAI_ERR_INSTANCE_NOT_JOINED') {
    await joinHub(config.hubUrl, config.apiKey, identity, deps);
    response = await send(); // the same signed batch: the hub applies a batch once
  }
  if (response.status !== 200) throw refusal(response.status, response.body, response.headers);
  return JSON.parse(response.body.toString('utf8')) as ReceivedBatch;
}

/** Registers this instance's public key with the hub for the organisation whose key is used. */
export async function joinHub(
  hubUrl: string,
  apiKey: string,
  identity: InstanceIdentity,
  deps: SourceDeps,
): Promise<void> {
  const joined = await sourceRequest(
    'POST',
    new URL('v1/sharing/join', hubUrl).toString(),
    { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', accept: 'application/json' },
    JSON.stringify({ instance_id: identity.id, public_key: identity.publicKey }),
    deps,
  );
  if (joined.status !== 200) throw refusal(joined.status, joined.body, joined.headers);
}

/** The hub's id and public key as it states them (GET /v1/sharing/instance): what a member pins when it joins. */
export async function hubIdentity(
  hubUrl: string,
  apiKey: string,
  deps: SourceDeps,
): Promise<{ id: string; public_key: string }> {
  const response = await sourceRequest(
    'GET',
    new URL('v1/sharing/instance', hubUrl).toString(),
    { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
    null,
    deps,
  );
  if (response.status !== 200) throw refusal(response.status, response.body, response.headers);
  return JSON.parse(response.body.toString('utf8')) as { id: string; public_key: string };
}

function codeOf(body: Buffer): string | undefined {
  try {
    return (JSON.parse(body.toString('utf8')) as { code?: string }).code;
  } catch {
    return undefined;
  }
}

/** The hub's refusal as this instance's error: a rate limit keeps its Retry-After. */
function refusal(
  status: number,
  body: Buffer,
  headers: Record<string, string | string[] | undefined>,
): KaitiakiError {
  let message = excerpt(body);
  try {
    message = (JSON.parse(body.toString('utf8')) as { message?: string }).message ?? message;
  } catch {
    // not JSON: the excerpt says what came back
  }
  const code = codeOf(body) ?? 'KAI_ERR_HUB_REFUSED';
  if (status === 429)
    return new RateLimitedError(
      `the hub limits contributions: ${message}`,
      Number(headers['retry-after']) || 60,
      code,
    );
  return new HubRefusal(status >= 400 && status < 600 ? status : 502, code, message);
}
