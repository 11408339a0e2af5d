/**
 * One logger for the whole process (pino, which Fastify uses too): request lines, background jobs and their
 * errors share it, so a request id (`reqId`) or a job name ties related lines together. In a terminal the lines
 * are written for people (`12:04:31 ERROR job outbox failed: connect ECONNREFUSED`); otherwise as JSON lines.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';

export type { Logger };
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

/** pino options for a format and level (Fastify takes these too). */
export function loggerOptions(format: LogFormat, level: string) {
  return format === 'pretty' ? { level, stream: prettyStream(process.stderr) } : { level };
}

const requestScope = new AsyncLocalStorage<string>();

/**
 * Runs `fn` (and whatever it starts: after-commit work, a job kicked by it) as part of request `reqId`, so lines
 * logged by that work carry `request: reqId` and can be tied to the request's own lines (`reqId`).
 */
export function inRequest<T>(reqId: string, fn: () => T): T {
  return requestScope.run(reqId, fn);
}

/** The request the current work belongs to, for the log lines of background work (a request's own lines have reqId). */
function requestMixin(_merge: object, _level: number, logger: Logger): Record<string, unknown> {
  const reqId = requestScope.getStore();
  return reqId && !('reqId' in logger.bindings()) ? { request: reqId } : {};
}

/**
 * The process logger. Without a format chosen (library use, tests, one-shot CLI commands) only warnings and errors
 * are written, as JSON lines to stderr; `serve` chooses the format and KAITIAKI_LOG_LEVEL the level.
 */
export function createLogger(
  format: LogFormat = 'json',
  level = process.env.KAITIAKI_LOG_LEVEL ?? 'info',
): Logger {
  const options = loggerOptions(format, level);
  return 'stream' in options
    ? pino({ level: options.level, mixin: requestMixin }, options.stream)
    : pino({ level: options.level, mixin: requestMixin }, pino.destination(2));
}

/** What a background failure is logged as: the error with its stack, and what was being done. */
export function logFailure(log: Logger, what: string, context: Record<string, unknown> = {}) {
  return (err: unknown): void => {
    log.error({ err, ...context }, `${what} failed`);
  };
}
