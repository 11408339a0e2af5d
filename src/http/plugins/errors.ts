/**
 * The one place that turns errors into HTTP responses: RFC 9457 problem+json bodies that say what was wrong,
 * with a stable `code`. Server faults (5xx) are logged and answered without internal details.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KaitiakiError, RateLimitedError, ValidationError } from '../../core/errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  /** The same as detail, for HMA clients, which read `message`. */
  message: string;
  errors?: { path: string; message: string }[];
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export function problem(status: number, code: string, detail: string, errors?: Problem['errors']): Problem {
  return {
    type: `https://kaitiaki.dev/problems/${code
      .toLowerCase()
      .replace(/^kai_err_/, '')
      .replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    message: detail,
    ...(errors ? { errors } : {}),
  };
}

/** Fastify's own error codes that are the client's fault, with our stable code for each. */
const FASTIFY_CLIENT_ERRORS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'KAI_ERR_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'KAI_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'KAI_ERR_EMPTY_BODY',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'KAI_ERR_BAD_CONTENT_LENGTH',
  FST_INVALID_MULTIPART_CONTENT_TYPE: 'KAI_ERR_NOT_MULTIPART',
  FST_REQ_FILE_TOO_LARGE: 'KAI_ERR_UPLOAD_TOO_LARGE',
  FST_PARTS_LIMIT: 'KAI_ERR_TOO_MANY_PARTS',
  FST_FILES_LIMIT: 'KAI_ERR_TOO_MANY_FILES',
  FST_FIELDS_LIMIT: 'KAI_ERR_TOO_MANY_FIELDS',
  FST_ERR_RATE_LIMIT: 'KAI_ERR_RATE_LIMITED',
};

export function toProblem(err: FastifyError | Error): Problem {
  if (err instanceof ValidationError && err.errors) return problem(400, err.code, err.message, err.errors);
  if (err instanceof KaitiakiError) return problem(err.httpStatus, err.code, err.message);
  const fastifyErr = err as FastifyError;
  if (fastifyErr.validation) {
    const errors = fastifyErr.validation.map((v) => ({
      path: `${fastifyErr.validationContext ?? 'body'}${v.instancePath || ''}`,
      message: describeValidation(v as unknown as ValidationIssue),
    }));
    return problem(
      400,
      'KAI_ERR_VALIDATION',
      errors.map((e) => `${e.path}: ${e.message}`).join('; '),
      errors,
    );
  }
  if (err instanceof SyntaxError || fastifyErr.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return problem(400, 'KAI_ERR_MALFORMED_JSON', `request body is not valid JSON: ${err.message}`);
  }
  // busboy's own parse errors (no boundary, a malformed part) carry no status: the body was wrong, not the server.
  if (/^(Multipart: |Malformed part header|Unexpected end of (form|multipart data))/.test(err.message))
    return problem(400, 'KAI_ERR_BAD_MULTIPART', `the multipart body is malformed: ${err.message}`);
  const status = fastifyErr.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = (fastifyErr.code && FASTIFY_CLIENT_ERRORS[fastifyErr.code]) ?? 'KAI_ERR_BAD_REQUEST';
    return problem(status, code, err.message);
  }
  return problem(500, 'KAI_ERR_INTERNAL', 'internal error; it has been logged');
}

interface ValidationIssue {
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function describeValidation(v: ValidationIssue): string {
  if (v.keyword === 'additionalProperties') return `unknown field "${String(v.params.additionalProperty)}"`;
  if (v.keyword === 'required') return `missing required field "${String(v.params.missingProperty)}"`;
  return v.message ?? v.keyword;
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.status(p.status).type('application/problem+json').send(p);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const p = toProblem(err);
    // A failure we did not foresee is an error to look into; a deliberate answer (e.g. 501 not yet available, 502 a
    // source failed) is a warning: the caller was told why.
    if (p.status >= 500) {
      if (err instanceof KaitiakiError)
        request.log.warn({ code: p.code }, `request answered ${p.status}: ${p.detail}`);
      else request.log.error({ err }, 'request failed');
    }
    if (p.status === 429 && fastifyRetryAfter(err)) reply.header('retry-after', fastifyRetryAfter(err));
    return sendProblem(reply, p);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem(404, 'KAI_ERR_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`),
    ),
  );
}

function fastifyRetryAfter(err: FastifyError): string | undefined {
  if (err instanceof RateLimitedError) return String(Math.max(1, Math.ceil(err.retryAfterSeconds)));
  const ttl = (err as FastifyError & { ttl?: number }).ttl;
  return ttl ? String(Math.ceil(ttl / 1000)) : undefined;
}
