import { describe, expect, it } from "vitest";

import { errorFromResponse } from "../src/errors.js";
import { typedError } from "../src/prld-errors.js";
import { PrldErrors, SessileError } from "../src/index.js";

const noHeaders = new Headers();

function typed(code: string, status = 400): SessileError {
  return typedError(errorFromResponse(status, { code, message: code }, noHeaders));
}

describe("Prelude's error classes", () => {
  it("maps every step-up code to its Prelude class, still a SessileError with its code", () => {
    const expected: Record<string, string> = {
      expired_challenge_token: "ExpiredChallengeTokenError",
      invalid_challenge_token: "InvalidChallengeTokenError",
      missing_challenge_token: "GenericError",
      invalid_verification_token: "InvalidVerificationTokenError",
      token_mismatch: "TokenMismatchError",
      token_reused: "TokenReusedError",
      step_not_completed: "StepNotCompletedError",
      step_not_found: "StepNotFoundError",
      step_bypassed: "StepBypassedError",
      not_configured: "StepUpNotConfiguredError",
      scope_not_allowed: "ScopeNotAllowedError",
      invalid_metadata: "InvalidMetadataError",
      auth_blocked: "ForbiddenError",
    };
    for (const [code, name] of Object.entries(expected)) {
      const error = typed(code);
      expect(error.name, code).toBe(name);
      expect(error.code).toBe(code);
      expect(error).toBeInstanceOf(SessileError);
      expect(error.constructor.name).toBe(name);
    }
  });

  it("follows Prelude's mapping for the login codes", () => {
    expect(typed("bad_check_code")).toBeInstanceOf(PrldErrors.BadRequest);
    expect(typed("unauthorized", 401)).toBeInstanceOf(PrldErrors.Unauthorized);
    expect(typed("identifier_already_exists", 409)).toBeInstanceOf(PrldErrors.Conflict);
    expect(typed("rate_limited", 429)).toBeInstanceOf(PrldErrors.RateLimited);
    expect(typed("service_unavailable", 503)).toBeInstanceOf(PrldErrors.Generic);
    expect(typed("token_reused")).not.toBeInstanceOf(PrldErrors.TokenMismatch);
  });

  it("makes insufficient_scope, a 403 Prelude's 0.6.0 never meets, a ForbiddenError", () => {
    const error = typed("insufficient_scope", 403);
    expect(error).toBeInstanceOf(PrldErrors.Forbidden);
    expect(error).toMatchObject({
      name: "ForbiddenError",
      code: "insufficient_scope",
      status: 403,
    });
  });
});
