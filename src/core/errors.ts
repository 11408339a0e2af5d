/**
 * Errors with stable codes. Library code throws these; exactly two places turn them into something a user
 * sees: the HTTP error handler (status + problem+json) and bin/kaitiaki.ts (exit code + message).
 */
export class KaitiakiError extends Error {
  override name = 'KaitiakiError';
  constructor(
    /** Stable machine-readable code, e.g. `KAI_ERR_HASH_INVALID`. */
    readonly code: string,
    message: string,
    readonly httpStatus = 500,
    readonly exitCode = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Input from outside was malformed: a bad hash, an unknown field, a value out of range. */
export class ValidationError extends KaitiakiError {
  override name = 'ValidationError';
  constructor(
    message: string,
    code = 'KAI_ERR_VALIDATION',
    options?: { cause?: unknown; errors?: { path: string; message: string }[] },
  ) {
    super(code, message, 400, 2, options);
    this.errors = options?.errors;
  }
  /** Per-field problems (path like `body/reference`), so that a form can show each next to its field. */
  readonly errors?: { path: string; message: string }[];
}

/** Too much, too fast: the caller may try again after `retryAfterSeconds` (sent as Retry-After). */
export class RateLimitedError extends KaitiakiError {
  override name = 'RateLimitedError';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    code = 'KAI_ERR_RATE_LIMITED',
  ) {
    super(code, message, 429, 1);
  }
}

/** A file or upload could not be turned into signals (corrupt, truncated, unsupported, too large). */
export class MediaError extends KaitiakiError {
  override name = 'MediaError';
  constructor(message: string, code = 'KAI_ERR_MEDIA', options?: { cause?: unknown }) {
    super(code, message, 422, 1, options);
  }
}

export class NotFoundError extends KaitiakiError {
  override name = 'NotFoundError';
  constructor(message: string, code = 'KAI_ERR_NOT_FOUND') {
    super(code, message, 404, 1);
  }
}

export class ConflictError extends KaitiakiError {
  override name = 'ConflictError';
  constructor(message: string, code = 'KAI_ERR_CONFLICT') {
    super(code, message, 409, 1);
  }
}

export class AuthError extends KaitiakiError {
  override name = 'AuthError';
  constructor(message: string, code = 'KAI_ERR_UNAUTHENTICATED', httpStatus = 401) {
    super(code, message, httpStatus, 1);
  }
}

export class ForbiddenError extends KaitiakiError {
  override name = 'ForbiddenError';
  constructor(message: string, code = 'KAI_ERR_FORBIDDEN') {
    super(code, message, 403, 1);
  }
}

/** A required external tool (ffmpeg, ffprobe) is missing or failed in a way that is not the input's fault. */
export class DependencyError extends KaitiakiError {
  override name = 'DependencyError';
  constructor(message: string, code = 'KAI_ERR_DEPENDENCY', options?: { cause?: unknown }) {
    super(code, message, 503, 3, options);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
