/**
 * The typed errors of the domain. Each has a stable `code` and an HTTP status; the HTTP edge renders
 * them once as RFC 9457 problem+json. Messages never carry a secret, and an authentication failure
 * never says which element was wrong.
 */
export class SesameError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: Record<string, unknown>;
  constructor(code: string, status: number, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** The one generic failure of any authentication attempt, whatever element was wrong. */
export class AuthenticationFailed extends SesameError {
  constructor(details: { remainingAttempts: number; nextBlockPermanent: boolean }) {
    super('ERR_AUTHENTICATION_FAILED', 401, 'Authentication failed.', details);
  }
}

export class CustomerBlocked extends SesameError {
  constructor(details: { blockedUntil: string | null; permanent: boolean; nextBlockPermanent: boolean }) {
    super(
      'ERR_CUSTOMER_BLOCKED',
      423,
      details.permanent
        ? 'Access is blocked. It can only be restored by your bank after an identity check.'
        : 'Too many failed attempts. Access is temporarily blocked.',
      details,
    );
  }
}

export class NotFound extends SesameError {
  constructor(what: string) {
    super('ERR_NOT_FOUND', 404, `${what} not found.`);
  }
}

export class Conflict extends SesameError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, 409, message, details);
  }
}

export class InvalidRequest extends SesameError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, 400, message, details);
  }
}

/** The request is well formed but the domain refuses it (ineligible, wrong state, policy). */
export class Unprocessable extends SesameError {
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(code, 422, message, details);
  }
}

/** A sending limit was reached (codes per operation, per customer, per number). */
export class TooManyRequests extends SesameError {
  constructor(code: string, detail: string) {
    super(code, 429, detail);
  }
}

export class Unauthorized extends SesameError {
  constructor(message = 'Missing or invalid credentials.', code = 'ERR_UNAUTHORIZED') {
    super(code, 401, message);
  }
}

export class Forbidden extends SesameError {
  constructor(message: string) {
    super('ERR_FORBIDDEN', 403, message);
  }
}

export class SessionExpired extends SesameError {
  constructor() {
    super('ERR_SESSION_EXPIRED', 401, 'The session has expired or was ended.');
  }
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
