import type { SignalType } from './signal-type.js';
import { exactHexSignal } from './exact-hex.js';

/** MD5 of the file bytes (HMA's `video_md5`, TCAP's MD5 lists). */
export const md5Signal: SignalType = exactHexSignal({
  name: 'md5',
  description: 'MD5 of the file bytes (32 hex characters); exact match only',
  hexLength: 32,
  label: 'MD5',
  fromHash: (result) => result.md5,
  // HMA calls it video_md5 and banks it for videos only.
  hma: { name: 'video_md5', bankedFor: ['video'] },
  examples: ['d41d8cd98f00b204e9800998ecf8427e', '9e107d9d372bb6826bd81d3542a419d6'],
});
