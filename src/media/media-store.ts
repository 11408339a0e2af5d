/**
 * Media kept for review (and, after removal, preserved for the retention period the TCO Regulation asks for):
 * content-addressed files under <data dir>/media/<organisation>/, written atomically (temp file + rename) and
 * readable only by this process's user.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../core/errors.js';

const SHA256 = /^[0-9a-f]{64}$/;

export const MEDIA_TYPES: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  mp4: 'video/mp4',
  other: 'application/octet-stream',
};

export function mediaTypeOf(head: Uint8Array): string {
  if (head[0] === 0xff && head[1] === 0xd8) return MEDIA_TYPES.jpeg;
  if (head[0] === 0x89 && head[1] === 0x50) return MEDIA_TYPES.png;
  if (head[0] === 0x47 && head[1] === 0x49) return MEDIA_TYPES.gif;
  if (String.fromCharCode(...head.subarray(8, 12)) === 'WEBP') return MEDIA_TYPES.webp;
  if (String.fromCharCode(...head.subarray(4, 8)) === 'ftyp') return MEDIA_TYPES.mp4;
  return MEDIA_TYPES.other;
}

export class MediaStore {
  constructor(private readonly root: string) {}

  private path(orgId: number, sha256: string): string {
    if (!Number.isInteger(orgId) || !SHA256.test(sha256)) throw new NotFoundError('no such media');
    return join(this.root, String(orgId), sha256);
  }

  async put(orgId: number, bytes: Buffer): Promise<string> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const path = this.path(orgId, sha256);
    await mkdir(join(this.root, String(orgId)), { recursive: true, mode: 0o700 });
    const exists = await stat(path).then(
      () => true,
      () => false,
    );
    if (!exists) {
      const temp = `${path}.${process.pid}.tmp`;
      await writeFile(temp, bytes, { mode: 0o600 });
      await rename(temp, path);
    }
    return sha256;
  }

  async get(orgId: number, sha256: string): Promise<{ bytes: Buffer; type: string }> {
    try {
      const bytes = await readFile(this.path(orgId, sha256));
      return { bytes, type: mediaTypeOf(bytes.subarray(0, 16)) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new NotFoundError('the media is no longer kept (retention) or was never stored');
      throw err;
    }
  }

  async delete(orgId: number, sha256: string): Promise<boolean> {
    const path = this.path(orgId, sha256);
    const existed = await stat(path).then(
      () => true,
      () => false,
    );
    await rm(path, { force: true });
    return existed;
  }
}
