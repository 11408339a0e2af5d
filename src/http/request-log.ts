/**
 * The server's log: one line per request (method, path, status, time) and one per error. In a terminal the lines
 * are written for people (`12:04:31 POST /v1/match 200 2.1 ms`); otherwise, or with `--log-format json`, as
 * pino's JSON lines for log collectors. Request ids (`reqId`) tie a request's lines together.
 */
import type { FastifyInstance } from 'fastify';

export type LogFormat = 'pretty' | 'json';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: '',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** Turns one pino JSON line into a line for people. */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = new Date(typeof entry.time === 'number' ? entry.time : Date.now()).toISOString().slice(11, 19);
  const level = LEVELS[Number(entry.level)] ?? '';
  const err = entry.err as { message?: string } | undefined;
  const parts = [time, level, String(entry.msg ?? ''), err?.message ? `: ${err.message}` : ''];
  return parts.filter(Boolean).join(' ').replace(' : ', ': ') + '\n';
}

function prettyStream(out: NodeJS.WritableStream) {
  return { write: (line: string) => void out.write(prettyLine(line)) };
}

export function loggerOptions(format: LogFormat, level: string) {
  return format === 'pretty' ? { level, stream: prettyStream(process.stderr) } : { level };
}

/** One line when a request completes (Fastify's own two lines per request are turned off). */
export function registerRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    const ms = Math.round(reply.elapsedTime * 10) / 10;
    const path = request.url.split('?')[0];
    request.log.info(
      { method: request.method, path, status: reply.statusCode, ms },
      `${request.method} ${path} ${reply.statusCode} ${ms} ms`,
    );
  });
}
