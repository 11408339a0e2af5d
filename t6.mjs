import { readFileSync } from 'node:fs';
import { decodeImage, resizeNearest512 } from './dist/src/hashing/image-decode.js';
import { pdqFromPixels, pdqDihedralFromLuma, lumaFromPixels } from './dist/src/hashing/pdq/pdq.js';
const root = '/work/shared/testdata/pdq/';
for (const [csv, r512] of [
  ['expected-full-resolution.csv', false],
  ['expected-512-nearest.csv', true],
]) {
  const lines = readFileSync(root + csv, 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  let ok = 0;
  for (const l of lines) {
    const [file, hash, q] = l.split(',');
    let img = await decodeImage(root + 'images/' + file);
    if (r512) img = resizeNearest512(img);
    const r = pdqFromPixels(img.pixels, img.width, img.height, img.channels);
    if (r.hash === hash && String(r.quality) === q) ok++;
    else console.log('BAD', csv, file, r.hash, hash);
  }
  console.log(csv, ok, '/', lines.length);
}
const img = await decodeImage(root + 'images/dih/bridge-1-original.jpg');
const d = pdqDihedralFromLuma(
  lumaFromPixels(img.pixels, img.width, img.height, img.channels),
  img.width,
  img.height,
);
const want = readFileSync(root + 'expected-dihedral-bridge-1-original.csv', 'utf8')
  .trim()
  .split('\n')
  .slice(1);
for (const l of want) {
  const [v, h] = l.split(',');
  console.log(v, d.variants[v] === h ? 'OK' : 'BAD ' + d.variants[v]);
}
