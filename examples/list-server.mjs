// A local stand-in for a list host and for the TCAP hash-list API, for the README's "External lists" walk-through.
// Real TCAP access needs credentials from Tech Against Terrorism; this speaks the same format on 127.0.0.1.
//   GET /list.csv                       examples/list.csv, with an ETag (a repeat with If-None-Match gets 304)
//   GET /api/hash-list/v2/all?after=..  TCAP-format pages of 2 records, bearer token "demo"
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8765);
const csvPath = new URL('./list.csv', import.meta.url);
const hashes = [
  {
    hash_digest: 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22',
    algorithm: 'PDQ',
    ideology: 'islamist',
    file_type: 'jpg',
    deleted: false,
    created_on: 1733200000,
    updated_on: 1733200000.5,
    id: 101,
  },
  {
    hash_digest: '9e107d9d372bb6826bd81d3542a419d6',
    algorithm: 'MD5',
    ideology: 'far-right',
    file_type: 'mp4',
    deleted: false,
    created_on: 1733200100,
    updated_on: 1733200100.25,
    id: 102,
  },
  {
    hash_digest: 'not-a-hash',
    algorithm: 'PDQ',
    ideology: 'islamist',
    file_type: 'png',
    deleted: false,
    created_on: 1733200200,
    updated_on: 1733200200,
    id: 103,
  },
];

createServer((req, res) => {
  const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
  if (url.pathname === '/list.csv') {
    const body = readFileSync(csvPath);
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    if (req.headers['if-none-match'] === etag) return res.writeHead(304).end();
    return res.writeHead(200, { 'content-type': 'text/csv', etag }).end(body);
  }
  if (url.pathname === '/api/hash-list/v2/all') {
    if (req.headers.authorization !== 'Bearer demo') return res.writeHead(401).end('{"error":"token"}');
    const [ts, id] = (url.searchParams.get('after') ?? '-1,-1').split(',').map(Number);
    const rest = hashes.filter((h) => h.updated_on > ts || (h.updated_on === ts && h.id > id));
    const results = rest.slice(0, 2);
    const last = results.at(-1);
    return res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        count: rest.length,
        next: rest.length > 2 ? `/api/hash-list/v2/all?after=${last.updated_on},${last.id}` : null,
        previous: null,
        checkpoint: last ? `${last.updated_on},${last.id}` : url.searchParams.get('after'),
        results,
      }),
    );
  }
  res.writeHead(404).end();
}).listen(port, '127.0.0.1', () => console.log(`list server on http://127.0.0.1:${port}`));
