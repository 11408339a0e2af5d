/**
 * Signatures on shared records: Ed25519 (node:crypto) over the record's canonical JSON (keys sorted, no
 * whitespace), so any member can check that a record is exactly what the signing instance sent.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../store/audit.js';

export function signRecord(record: Record<string, unknown>, privateKeyPem: string): string {
  return sign(null, Buffer.from(canonicalJson(record)), privateKeyPem).toString('base64url');
}

/** True when `signature` is the signer's over exactly this record (the record without its signature field). */
export function verifyRecord(
  record: Record<string, unknown>,
  signature: string,
  publicKey: string | KeyObject,
): boolean {
  try {
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    return verify(null, Buffer.from(canonicalJson(record)), key, Buffer.from(signature, 'base64url'));
  } catch {
    return false; // a malformed key or signature verifies nothing
  }
}
