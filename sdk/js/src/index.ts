/**
 * sessile's browser SDK. The public API is exactly what this file exports;
 * test/exports.test.ts pins the list.
 */

export { SessionClient } from "./client.js";
export type {
  Identifier,
  IdentifierInfo,
  IdentifierList,
  OTPLoginOptions,
  PasswordLoginOptions,
  RefreshOptions,
  ResetPasswordOptions,
  RevokeTarget,
  SessionClientOptions,
  SessionInfo,
  SessionList,
  SessionResult,
  SignUpResult,
  User,
} from "./client.js";
export type { TokenStorage } from "./cache.js";
export type {
  InitiateOAuthLoginOptions,
  InitiateOAuthLoginResponse,
  OAuthCallbackParams,
  OAuthProvider,
  OTPRequired,
} from "./oauth.js";
export { SessileError } from "./errors.js";
export type { ErrorCode, StepUpErrorCode } from "./errors.js";
export {
  BadRequestError,
  ExpiredChallengeTokenError,
  ForbiddenError,
  GenericError,
  InternalServerError,
  InvalidChallengeTokenError,
  InvalidMetadataError,
  InvalidVerificationTokenError,
  MissingChallengeTokenError,
  NotFoundError,
  PrldErrors,
  RateLimitedError,
  ScopeNotAllowedError,
  StepBypassedError,
  StepNotCompletedError,
  StepNotFoundError,
  StepUpNotConfiguredError,
  TokenMismatchError,
  TokenReusedError,
  UnauthorizedError,
} from "./prld-errors.js";
export type {
  OnChallenge,
  StepUpChallengeInfo,
  StepUpChallengeStep,
  StepUpContinueResponse,
  StepUpGrantStatus,
  StepUpOtpCheckResponse,
  StepUpOtpCreateOptions,
  StepUpPasswordCheckResponse,
  StepUpRequestOptions,
  StepUpRequestResponse,
} from "./stepup.js";
export type { FetchLike } from "./http.js";
export { decode } from "./jwt.js";
export type { DecodedToken, JsonObject } from "./jwt.js";
export type {
  PasswordCriteria,
  PasswordCriterionResult,
  PasswordPolicy,
  PasswordValidation,
} from "./password.js";
export { VERSION } from "./version.js";
