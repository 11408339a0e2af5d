/** Signed appeal links: the statement of reasons carries a token that proves which decision it is about. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../core/errors.js';

export interface AppealTokenClaims {
  orgId: number;
  decisionId: number;
}

function mac(secret: string, body: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}

export function signAppealToken(secret: string, claims: AppealTokenClaims): string {
  const body = Buffer.from(JSON.stringify({ o: claims.orgId, d: claims.decisionId })).toString('base64url');
  return `${body}.${mac(secret, body)}`;
}

/** The claims, unverified: which organisation's key to check the signature with. */
export function readAppealToken(token: string): AppealTokenClaims & { body: string; signature: string } {
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined)
    throw new ValidationError('malformed appeal link', 'KAI_ERR_APPEAL_LINK');
  try {
    const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as {
      o?: unknown;
      d?: unknown;
    };
    if (Number.isSafeInteger(parsed.o) && Number.isSafeInteger(parsed.d))
      return { orgId: parsed.o as number, decisionId: parsed.d as number, body, signature };
  } catch {
    // fall through
  }
  throw new ValidationError('malformed appeal link', 'KAI_ERR_APPEAL_LINK');
}

export function appealTokenValid(secret: string, body: string, signature: string): boolean {
  const expected = Buffer.from(mac(secret, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
