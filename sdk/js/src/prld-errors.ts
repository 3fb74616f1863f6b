/**
 * Prelude's error classes (its `PrldErrors` and the classes its index exports), as
 * subclasses of `SessileError`: code written against Prelude's SDK catches the same
 * names, and `code`, `status` and `retryAfter` stay. A server code maps to a class the
 * way Prelude's SDK 0.6.0 maps it; codes it doesn't know are a `GenericError`, except
 * `insufficient_scope` (a call whose step-up scope is missing or spent, which 0.6.0 never
 * meets), a `ForbiddenError` like its 403.
 */

import { SessileError, type ErrorCode, type SessileErrorOptions } from "./errors.js";

function named(name: string): typeof SessileError {
  const Class = class extends SessileError {
    constructor(code: ErrorCode, status: number, message: string, options?: SessileErrorOptions) {
      super(code, status, message, options);
      this.name = name;
    }
  };
  Object.defineProperty(Class, "name", { value: name });
  return Class;
}

export const GenericError = named("GenericError");
export const UnauthorizedError = named("UnauthorizedError");
export const ForbiddenError = named("ForbiddenError");
export const BadRequestError = named("BadRequestError");
export const NotFoundError = named("NotFoundError");
export const InternalServerError = named("InternalServerError");
export const RateLimitedError = named("RateLimitedError");
export const InvalidPasswordError = named("InvalidPasswordError");
export const BadCheckCodeError = named("BadCheckCodeError");
export const ConflictError = named("ConflictError");
export const UnprocessableEntityError = named("UnprocessableEntityError");
export const ExpiredChallengeTokenError = named("ExpiredChallengeTokenError");
export const InvalidChallengeTokenError = named("InvalidChallengeTokenError");
export const InvalidVerificationTokenError = named("InvalidVerificationTokenError");
export const TokenMismatchError = named("TokenMismatchError");
export const StepNotCompletedError = named("StepNotCompletedError");
export const StepNotFoundError = named("StepNotFoundError");
export const StepBypassedError = named("StepBypassedError");
export const StepUpNotConfiguredError = named("StepUpNotConfiguredError");
export const ScopeNotAllowedError = named("ScopeNotAllowedError");
export const TokenReusedError = named("TokenReusedError");
export const InvalidMetadataError = named("InvalidMetadataError");
export const MissingChallengeTokenError = named("MissingChallengeTokenError");

/** Prelude's `PrldErrors`: every class by its short name. */
export const PrldErrors = {
  Generic: GenericError,
  Unauthorized: UnauthorizedError,
  Forbidden: ForbiddenError,
  BadRequest: BadRequestError,
  NotFound: NotFoundError,
  InternalServer: InternalServerError,
  RateLimited: RateLimitedError,
  InvalidPassword: InvalidPasswordError,
  Conflict: ConflictError,
  UnprocessableEntity: UnprocessableEntityError,
  ExpiredChallengeToken: ExpiredChallengeTokenError,
  InvalidChallengeToken: InvalidChallengeTokenError,
  InvalidVerificationToken: InvalidVerificationTokenError,
  TokenMismatch: TokenMismatchError,
  StepNotCompleted: StepNotCompletedError,
  StepNotFound: StepNotFoundError,
  StepBypassed: StepBypassedError,
  StepUpNotConfigured: StepUpNotConfiguredError,
  ScopeNotAllowed: ScopeNotAllowedError,
  TokenReused: TokenReusedError,
  InvalidMetadata: InvalidMetadataError,
  MissingChallengeToken: MissingChallengeTokenError,
  BadCheckCode: BadCheckCodeError,
} as const;

const BY_CODE: Readonly<Partial<Record<ErrorCode, typeof SessileError>>> = {
  unauthorized: UnauthorizedError,
  forbidden: ForbiddenError,
  auth_blocked: ForbiddenError,
  insufficient_scope: ForbiddenError,
  bad_request: BadRequestError,
  invalid_identifier: BadRequestError,
  bad_check_code: BadRequestError,
  invalid_dpop_proof: BadRequestError,
  use_dpop_nonce: BadRequestError,
  dpop_key_mismatch: BadRequestError,
  missing_dpop_proof: BadRequestError,
  invalid_pagination_limit: BadRequestError,
  invalid_pagination_offset: BadRequestError,
  not_found: NotFoundError,
  internal: InternalServerError,
  rate_limited: RateLimitedError,
  invalid_password: InvalidPasswordError,
  conflict: ConflictError,
  identifier_already_exists: ConflictError,
  expired_challenge_token: ExpiredChallengeTokenError,
  invalid_challenge_token: InvalidChallengeTokenError,
  invalid_verification_token: InvalidVerificationTokenError,
  token_mismatch: TokenMismatchError,
  step_not_completed: StepNotCompletedError,
  step_not_found: StepNotFoundError,
  step_bypassed: StepBypassedError,
  not_configured: StepUpNotConfiguredError,
  scope_not_allowed: ScopeNotAllowedError,
  token_reused: TokenReusedError,
  invalid_metadata: InvalidMetadataError,
};

/** The same error as an instance of its Prelude class. */
export function typedError(error: SessileError): SessileError {
  const Class = BY_CODE[error.code] ?? GenericError;
  return new Class(error.code, error.status, error.message, {
    retryAfter: error.retryAfter,
    cause: error.cause,
  });
}
