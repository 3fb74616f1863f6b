/**
 * Errors: one class, `SessileError`, whose `code` is the server's wire code
 * (DESIGN §2) or one of the two the SDK makes itself, `network_error` and
 * `timeout` (status 0). Callers `switch` on `code`, never on `message`.
 */

/** The step-up codes (Prelude's names, DESIGN §12). */
const STEP_UP_CODES = [
  "expired_challenge_token",
  "invalid_challenge_token",
  "missing_challenge_token",
  "invalid_verification_token",
  "token_mismatch",
  "token_reused",
  "step_not_completed",
  "step_not_found",
  "step_bypassed",
  "not_configured",
  "scope_not_allowed",
  "invalid_metadata",
  "auth_blocked",
] as const;

/** The codes a server answer may carry (DESIGN §2), the step-up ones apart. */
const WIRE_CODES = [
  "bad_request",
  "invalid_identifier",
  "unauthorized",
  "forbidden",
  "insufficient_scope",
  "not_found",
  "conflict",
  "identifier_already_exists",
  "rate_limited",
  "delivery_failed",
  "bad_check_code",
  "invalid_password",
  "invalid_dpop_proof",
  "use_dpop_nonce",
  "dpop_key_mismatch",
  "missing_dpop_proof",
  "invalid_pagination_limit",
  "invalid_pagination_offset",
  "method_not_allowed",
  "payload_too_large",
  "service_unavailable",
  "internal",
  "oauth_provider_not_configured",
  "oauth_provider_disabled",
  "invalid_redirect_uri",
  "invalid_oauth_state",
] as const;

export type StepUpErrorCode = (typeof STEP_UP_CODES)[number];

/** Every `code` a `SessileError` can carry: the server's, and those the SDK makes itself. */
export type ErrorCode =
  (typeof WIRE_CODES)[number] | StepUpErrorCode | "oauth_error" | "network_error" | "timeout";

const SERVER_CODES: ReadonlySet<string> = new Set<ErrorCode>([...WIRE_CODES, ...STEP_UP_CODES]);

// Used only when the body carries no code we know (a proxy's HTML page, say).
const CODE_BY_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  429: "rate_limited",
  503: "service_unavailable",
};

export interface SessileErrorOptions {
  /** Seconds to wait before trying again, from `Retry-After`. */
  retryAfter?: number | undefined;
  cause?: unknown;
}

export class SessileError extends Error {
  override name = "SessileError";
  readonly code: ErrorCode;
  /** The HTTP status; 0 when no response arrived (`network_error`, `timeout`). */
  readonly status: number;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, status: number, message: string, options: SessileErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = status;
    this.retryAfter = options.retryAfter;
  }
}

/** Build the error for a non-2xx response from its status, parsed body and headers. */
export function errorFromResponse(status: number, body: unknown, headers: Headers): SessileError {
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const wireCode = typeof fields.code === "string" ? fields.code : undefined;
  const code: ErrorCode =
    wireCode !== undefined && SERVER_CODES.has(wireCode)
      ? (wireCode as ErrorCode)
      : (CODE_BY_STATUS[status] ?? "internal");
  const message =
    typeof fields.message === "string" && fields.message !== ""
      ? fields.message
      : `HTTP ${status} (${code})`;
  return new SessileError(code, status, message, { retryAfter: parseRetryAfter(headers) });
}

function parseRetryAfter(headers: Headers): number | undefined {
  const raw = headers.get("Retry-After");
  if (raw === null) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
