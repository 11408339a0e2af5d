/**
 * Signatures on shared data: Ed25519 (node:crypto) over canonical JSON (keys sorted, no whitespace), so any member
 * can check that what it received is exactly what the signing instance sent.
 *
 * Change pages are signed once per page, not per record: the hub signs a statement naming the page's cursor range,
 * the collections it may carry and the SHA-256 digest of each record. One signature per page of a thousand records
 * instead of a thousand is what lets a member take in a million signals in under a minute (an Ed25519 signature
 * costs tens of microseconds, a verification over a hundred), and a record altered on the way still stands out on
 * its own: its digest is not the one the hub signed, so it alone is quarantined.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../store/audit.js';

const privateKeys = new Map<string, KeyObject>();
const publicKeys = new Map<string, KeyObject | null>();

/** A PEM key parsed once: parsing costs more than signing. */
function privateKeyOf(pem: string): KeyObject {
  let key = privateKeys.get(pem);
  if (!key) privateKeys.set(pem, (key = createPrivateKey(pem)));
  return key;
}

function publicKeyOf(key: string | KeyObject): KeyObject | null {
  if (typeof key !== 'string') return key;
  if (!publicKeys.has(key)) {
    try {
      publicKeys.set(key, createPublicKey(key));
    } catch {
      publicKeys.set(key, null); // a malformed key verifies nothing
    }
  }
  return publicKeys.get(key)!;
}

export function signRecord(record: Record<string, unknown>, privateKeyPem: string): string {
  return sign(null, Buffer.from(canonicalJson(record)), privateKeyOf(privateKeyPem)).toString('base64url');
}

/** True when `signature` is the signer's over exactly this record (the record without its signature field). */
export function verifyRecord(
  record: Record<string, unknown>,
  signature: string,
  publicKey: string | KeyObject,
): boolean {
  return verifyText(canonicalJson(record), signature, publicKey);
}

/** True when `signature` is the signer's over exactly this text (a payload kept as it was signed). */
export function verifyText(text: string, signature: string, publicKey: string | KeyObject): boolean {
  const key = publicKeyOf(publicKey);
  if (!key) return false;
  try {
    return verify(null, Buffer.from(text), key, Buffer.from(signature, 'base64url'));
  } catch {
    return false; // a malformed signature verifies nothing
  }
}

/** A record's digest as a page proof lists it: SHA-256 of its canonical JSON, base64url. */
export function recordDigest(record: Record<string, unknown>): string {
  return createHash('sha256').update(canonicalJson(record)).digest('base64url');
}

/** What the hub signs for one page of changes. */
export interface PageStatement {
  instance_id: string;
  /** The cursor the page was asked after, and the one it hands on: a page replayed elsewhere does not fit. */
  after: number;
  next_after: number;
  more: boolean;
  /** The collections whose records the page may carry: a record of any other is not genuine. */
  collections: number[];
  /** One digest per record, in order. */
  digests: string[];
  /** One digest per contribution batch the page carries (members' own signatures of what they contributed). */
  batches: string[];
}

export interface PageProof extends PageStatement {
  signature: string;
}

export function signPage(
  records: readonly Record<string, unknown>[],
  batches: readonly Record<string, unknown>[],
  statement: Omit<PageStatement, 'digests' | 'batches'>,
  privateKeyPem: string,
): PageProof {
  const body: PageStatement = {
    ...statement,
    digests: records.map(recordDigest),
    batches: batches.map(recordDigest),
  };
  return { ...body, signature: signRecord(body as unknown as Record<string, unknown>, privateKeyPem) };
}

/** What a member concludes of a page: which records are the ones the hub signed, and of which collections. */
export interface PageVerdict {
  /** Per record: its digest is the signed one. */
  genuine: boolean[];
  collections: ReadonlySet<number>;
}

/**
 * Checks a page's proof with the hub's pinned key. A proof that is missing, does not verify, or does not fit the
 * page (another cursor range, another number of records) condemns the whole page: the reason is returned and
 * nothing of it may be stored. A proof that holds vouches for each record whose digest matches.
 */
export function checkPage(
  page: {
    records: readonly Record<string, unknown>[];
    batches?: readonly Record<string, unknown>[];
    next_after: number;
    more: boolean;
    proof?: unknown;
  },
  after: number,
  hubPublicKey: string | KeyObject,
): PageVerdict | string {
  const proof = page.proof as Partial<PageProof> | undefined;
  if (typeof proof !== 'object' || proof === null) return 'the page carries no signed proof';
  const { signature, ...statement } = proof;
  if (
    typeof signature !== 'string' ||
    !Array.isArray(statement.digests) ||
    !Array.isArray(statement.collections) ||
    !verifyRecord(statement as Record<string, unknown>, signature, hubPublicKey)
  )
    return "the page's signature does not verify with the hub key: forged or altered";
  if (statement.after !== after || statement.next_after !== page.next_after || statement.more !== page.more)
    return `the page's signed cursor range (${String(statement.after)} to ${String(statement.next_after)}) is not the one asked for and answered`;
  if (statement.digests.length !== page.records.length)
    return `the page has ${page.records.length} records but its signature covers ${statement.digests.length}: cut short or padded`;
  const batches = page.batches ?? [];
  if (
    !Array.isArray(statement.batches) ||
    statement.batches.length !== batches.length ||
    batches.some((batch, i) => recordDigest(batch) !== statement.batches![i])
  )
    return "the page's contribution batches are not the ones the hub signed";
  const digests = statement.digests;
  return {
    genuine: page.records.map((record, i) => recordDigest(record) === digests[i]),
    collections: new Set(statement.collections.filter((c): c is number => typeof c === 'number')),
  };
}
