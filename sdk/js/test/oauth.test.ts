import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { SessileError } from "../src/index.js";
import { FakeServer } from "./fake-server.js";
import { MemoryStorage, makeClient, useFreshBrowser } from "./helpers.js";

useFreshBrowser();

const APP = "https://app.example.test/callback";

beforeEach(() => {
  globalThis.sessionStorage = new MemoryStorage() as unknown as Storage;
});
afterEach(() => {
  delete (globalThis as { sessionStorage?: Storage }).sessionStorage;
});

function tokenOf(url: string): string {
  return new URL(url).searchParams.get("token")!;
}

describe("social login", () => {
  it("sends an S256 challenge and finalizes with its verifier, once", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    const { authorization_url } = await client.initiateOAuthLogin({
      provider: "google",
      redirectURI: APP,
    });
    const sent = server.requests[0]!;
    expect(sent.path).toBe("/login/oauth/google/authorize");
    expect(sent.body).toMatchObject({ redirect_uri: APP, code_challenge_method: "S256" });
    expect((sent.body as { code_challenge: string }).code_challenge).toMatch(/^[\w-]{43}$/);

    const result = await client.finalizeOAuthLogin(tokenOf(authorization_url));
    expect("user" in result && result.user.profile.sub).toBe("usr_oauth");
    const finalize = server.requests.find((r) => r.path === "/login/finalize" && r.status === 200);
    expect((finalize!.body as { code_verifier: string }).code_verifier).toMatch(/^[\w-]{43}$/);
    expect(globalThis.sessionStorage.getItem("sessile.oauth.code_verifier")).toBeNull();
  });

  it("fails without this tab's verifier, and with another one", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    const { authorization_url } = await client.initiateOAuthLogin({
      provider: "google",
      redirectURI: APP,
    });
    globalThis.sessionStorage.setItem("sessile.oauth.code_verifier", "x".repeat(43));
    const wrong = await client
      .finalizeOAuthLogin(tokenOf(authorization_url))
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(SessileError);
    expect((wrong as SessileError).code).toBe("invalid_challenge_token");
    const none = await client.finalizeOAuthLogin("chl_whatever").catch((e: unknown) => e);
    expect((none as SessileError).code).toBe("invalid_challenge_token");
  });

  it("turns the callback's error into a SessileError", () => {
    const client = makeClient(new FakeServer());
    expect(() =>
      client.validateOAuthCallback({ error: "access_denied", error_description: "No." }),
    ).toThrow("No.");
    expect(() => client.validateOAuthCallback({})).toThrow(SessileError);
    expect(client.validateOAuthCallback({ challenge_token: "chl_1", state: "s" })).toBe(true);
  });
});
