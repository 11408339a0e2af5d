/** What a file is, from its first bytes (never from its name alone): photo, video or other. */

/** What content is, as far as hashing cares. */
export type ContentType = 'photo' | 'video' | 'other';

const PHOTO_BRANDS = new Set(['avif', 'avis', 'heic', 'heix', 'heim', 'heis', 'mif1', 'msf1']);

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

export function sniffContentType(head: Uint8Array): ContentType {
  const b = head;
  if (b.length < 4) return 'other';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'photo'; // JPEG
  if (b[0] === 0x89 && ascii(b, 1, 3) === 'PNG') return 'photo';
  if (ascii(b, 0, 4) === 'GIF8') return 'photo';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'photo';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'AVI ') return 'video';
  if ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a) || (b[0] === 0x4d && b[1] === 0x4d && b[3] === 0x2a))
    return 'photo'; // TIFF
  if (b[0] === 0x42 && b[1] === 0x4d && b.length > 26) return 'photo'; // BMP
  if (ascii(b, 4, 4) === 'ftyp') {
    const brand = ascii(b, 8, 4);
    return PHOTO_BRANDS.has(brand) ? 'photo' : 'video'; // ISO BMFF: MP4, MOV, 3GP, M4V vs AVIF/HEIF
  }
  if (b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'video'; // Matroska / WebM
  if (ascii(b, 0, 3) === 'FLV') return 'video';
  if (b[0] === 0x47 && b.length > 188 && b[188] === 0x47) return 'video'; // MPEG-TS
  if (b[0] === 0x00 && b[1] === 0x00 && b[2] === 0x01 && (b[3] === 0xba || b[3] === 0xb3)) return 'video'; // MPEG-PS
  if (ascii(b, 0, 4) === 'OggS' && ascii(b, 28, 8).includes('theora')) return 'video';
  return 'other';
}
