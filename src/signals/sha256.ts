import type { SignalType } from './signal-type.js';
import { exactHexSignal } from './exact-hex.js';

/** SHA-256 of the file bytes; exact match only. */
export const sha256Signal: SignalType = exactHexSignal({
  name: 'sha256',
  description: 'SHA-256 of the file bytes (64 hex characters); exact match only',
  hexLength: 64,
  label: 'SHA-256',
  fromHash: (result) => result.sha256,
  examples: [
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'd7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592',
  ],
});
