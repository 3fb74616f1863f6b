import { describe, expect, it } from "vitest";

import { errorFromResponse } from "../src/errors.js";
import { SessileError } from "../src/index.js";

const noHeaders = new Headers();

describe("errorFromResponse", () => {
  it("maps by the body's code, whatever the status", () => {
    const error = errorFromResponse(
      400,
      { code: "use_dpop_nonce", message: "nonce please" },
      noHeaders,
    );
    expect(error).toBeInstanceOf(SessileError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: "SessileError",
      code: "use_dpop_nonce",
      status: 400,
      message: "nonce please",
    });
  });

  it("knows insufficient_scope, and reads the code beside the type and status fields", () => {
    const error = errorFromResponse(
      403,
      { code: "insufficient_scope", type: "forbidden", status: "forbidden", message: "step up" },
      noHeaders,
    );
    expect(error).toMatchObject({ code: "insufficient_scope", status: 403, message: "step up" });
  });

  it("falls back to the status when the body has no known code", () => {
    expect(errorFromResponse(404, undefined, noHeaders).code).toBe("not_found");
    expect(errorFromResponse(413, "<html>", noHeaders).code).toBe("payload_too_large");
    expect(errorFromResponse(401, { code: "something_new" }, noHeaders).code).toBe("unauthorized");
    expect(errorFromResponse(502, {}, noHeaders)).toMatchObject({
      code: "internal",
      status: 502,
      message: "HTTP 502 (internal)",
    });
  });

  it("reads Retry-After in seconds or as a date", () => {
    const seconds = errorFromResponse(
      429,
      { code: "rate_limited" },
      new Headers({ "Retry-After": "7" }),
    );
    expect(seconds.retryAfter).toBe(7);
    const later = new Date(Date.now() + 60_000).toUTCString();
    const dated = errorFromResponse(
      429,
      { code: "rate_limited" },
      new Headers({ "Retry-After": later }),
    );
    expect(dated.retryAfter).toBeGreaterThan(55);
    expect(dated.retryAfter).toBeLessThanOrEqual(60);
    expect(errorFromResponse(429, {}, noHeaders).retryAfter).toBeUndefined();
  });
});
