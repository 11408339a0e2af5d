import Fastify, { LogController } from 'fastify';
import { describe, expect, it } from 'vitest';
import { prettyLine, registerRequestLog } from '../../src/http/request-log.js';

describe('the request log', () => {
  it('writes one line per request, with method, path, status and time', async () => {
    const lines: string[] = [];
    const app = Fastify({
      logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } },
      logController: new LogController({ disableRequestLogging: true }),
    });
    registerRequestLog(app);
    app.get('/v1/thing', async () => ({ ok: true }));
    await app.inject({ method: 'GET', url: '/v1/thing?secret=no' });
    await app.inject({ method: 'GET', url: '/missing' });
    await app.close();
    const requests = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => 'status' in l);
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({
      method: 'GET',
      path: '/v1/thing',
      status: 200,
      reqId: expect.any(String),
    });
    expect(requests[1]).toMatchObject({ path: '/missing', status: 404 });
    expect(lines.join('')).not.toMatch(/incoming request|secret=no/);
    // For people: time, then the message; errors carry their level and message.
    expect(prettyLine(lines[0])).toMatch(/^\d\d:\d\d:\d\d GET \/v1\/thing 200 [\d.]+ ms\n$/);
    expect(
      prettyLine(JSON.stringify({ level: 50, time: 0, msg: 'request failed', err: { message: 'boom' } })),
    ).toBe('00:00:00 ERROR request failed: boom\n');
  });

  it('names the route, not the path, for a path that carries a secret', async () => {
    const lines: string[] = [];
    const app = Fastify({
      logger: { level: 'info', stream: { write: (line: string) => void lines.push(line) } },
      logController: new LogController({ disableRequestLogging: true }),
    });
    registerRequestLog(app);
    app.get('/v1/link/:token', { config: { secretPath: true } }, async () => ({ ok: true }));
    await app.inject({ method: 'GET', url: '/v1/link/s3cr3t-token' });
    await app.close();
    expect(lines.join('')).toContain('/v1/link/:token');
    expect(lines.join('')).not.toContain('s3cr3t-token');
  });
});
