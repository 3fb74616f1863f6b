import { readFileSync, readdirSync } from "node:fs";

import { describe, expect, it } from "vitest";

import * as sessile from "../src/index.js";

describe("the package surface", () => {
  it("exports exactly the public API", () => {
    expect(Object.keys(sessile).sort()).toEqual([
      "BadRequestError",
      "ExpiredChallengeTokenError",
      "ForbiddenError",
      "GenericError",
      "InternalServerError",
      "InvalidChallengeTokenError",
      "InvalidMetadataError",
      "InvalidVerificationTokenError",
      "MissingChallengeTokenError",
      "NotFoundError",
      "PrldErrors",
      "RateLimitedError",
      "ScopeNotAllowedError",
      "SessileError",
      "SessionClient",
      "StepBypassedError",
      "StepNotCompletedError",
      "StepNotFoundError",
      "StepUpNotConfiguredError",
      "TokenMismatchError",
      "TokenReusedError",
      "UnauthorizedError",
      "VERSION",
      "decode",
    ]);
  });

  it("sends the version in package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
      dependencies?: object;
    };
    expect(sessile.VERSION).toBe(pkg.version);
    expect(pkg.dependencies).toBeUndefined();
  });

  it("imports only relative .js paths, so dist/index.js loads in a page as is", () => {
    const src = new URL("../src/", import.meta.url);
    for (const file of readdirSync(src)) {
      const text = readFileSync(new URL(file, src), "utf8");
      for (const [, specifier] of text.matchAll(
        /^(?:import|export)[^"']*from\s+["']([^"']+)["']/gm,
      )) {
        expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\/[\w-]+\.js$/);
      }
    }
  });
});
