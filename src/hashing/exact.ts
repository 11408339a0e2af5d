/** MD5 and SHA-256 of the bytes, computed in one streamed pass (a large file is never read whole into memory). */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export interface ExactHashes {
  md5: string;
  sha256: string;
  bytes: number;
}

export async function exactHashesOfFile(path: string): Promise<ExactHashes> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    md5.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { md5: md5.digest('hex'), sha256: sha256.digest('hex'), bytes };
}

export function exactHashesOfBuffer(buffer: Uint8Array): ExactHashes {
  return {
    md5: createHash('md5').update(buffer).digest('hex'),
    sha256: createHash('sha256').update(buffer).digest('hex'),
    bytes: buffer.length,
  };
}
