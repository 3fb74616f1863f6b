import { describe, expect, it } from "vitest";

import { SessileError, SessionClient, VERSION, decode } from "../src/index.js";
import { FakeServer, ORIGIN, json } from "./fake-server.js";
import { loggedIn, makeClient, useFreshBrowser } from "./helpers.js";

useFreshBrowser();

describe("every request", () => {
  it("includes credentials, JSON content type and the SDK user agent", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    await client.listSessions();
    expect(server.requests.length).toBeGreaterThan(3);
    for (const request of server.requests) {
      expect(request.credentials).toBe("include");
      expect(request.headers.get("Content-Type")).toBe("application/json");
      expect(request.headers.get("X-SDK-User-Agent")).toBe(`sessile-js/${VERSION}`);
    }
  });

  it("accepts Prelude's domain option as https://<domain>", async () => {
    const server = new FakeServer();
    const client = new SessionClient({ domain: "auth.example.com", fetch: server.fetch });
    await client.retryOTP().catch(() => undefined);
    client.close();
    expect(server.requests[0]!.url).toBe("https://auth.example.com/v1/session/login/otp/retry");
    expect(() => new SessionClient({})).toThrow(TypeError);
  });

  it("passes login_config_id through", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    await client.startOTPLogin({
      identifier: { type: "email_address", value: "ada@example.com" },
      login_config_id: "cfg_1",
    });
    expect(server.requests[0]!.body).toEqual({
      identifier: { type: "email_address", value: "ada@example.com" },
      login_config_id: "cfg_1",
    });
  });

  it("uses the base URL without a trailing slash", async () => {
    const server = new FakeServer();
    const client = makeClient(server, { url: `${ORIGIN}//` });
    await client.startOTPLogin({ identifier: { type: "phone_number", value: "+33612345678" } });
    expect(server.requests[0]!.url).toBe(`${ORIGIN}/v1/session/login/otp`);
    expect(server.requests[0]!.body).toEqual({
      identifier: { type: "phone_number", value: "+33612345678" },
    });
  });
});

describe("OTP login", () => {
  it("sends the code with a DPoP proof, retries once with the nonce, and caches the token", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    await client.startOTPLogin({ identifier: { type: "email_address", value: "ada@example.com" } });
    await client.retryOTP();
    const { user } = await client.checkOTP("123456");

    const checks = server.requests.filter((r) => r.path === "/login/otp/check");
    expect(checks).toHaveLength(2); // use_dpop_nonce, then the retry
    expect(checks[0]!.proof).toBeUndefined();
    expect(checks[1]!.body).toEqual({ code: "123456" });
    expect(checks.map((r) => r.headers.get("DPoP"))).toHaveLength(2);
    expect(checks[0]!.headers.get("DPoP")).not.toBe(checks[1]!.headers.get("DPoP"));
    expect(user.profile).toMatchObject({ sub: "usr_otp" });
    expect(user.accessToken.split(".")).toHaveLength(3);

    const again = await client.refresh();
    expect(again.user.accessToken).toBe(user.accessToken);
    expect(server.count("/refresh")).toBe(0);
  });

  it("maps a wrong code to a typed error", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    const error = await client.checkOTP("000000").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessileError);
    expect(error).toMatchObject({ code: "bad_check_code", status: 400 });
  });
});

describe("DPoP nonce", () => {
  it("retries exactly once when the server keeps asking for a nonce", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    server.overrides.push(
      () => json(401, { code: "use_dpop_nonce" }),
      () => json(401, { code: "use_dpop_nonce" }),
      () => json(401, { code: "use_dpop_nonce" }),
    );
    const error = await client.checkOTP("123456").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "use_dpop_nonce", status: 401 });
    expect(server.count("/login/otp/check")).toBe(2);
  });

  it("uses the nonce of the latest response in the next proof", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const nonceAfterLogin = server.lastNonce;
    await client.invalidateCache();
    await client.refresh();
    const refresh = server.requests.filter((r) => r.path === "/refresh");
    expect(refresh).toHaveLength(1); // the nonce from the login answer was good
    expect(refresh[0]!.proof!.claims.nonce).toBe(nonceAfterLogin);
  });

  it("does not retry other DPoP errors", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    server.overrides.push(() => json(401, { code: "dpop_key_mismatch", message: "wrong key" }));
    await client.invalidateCache();
    const error = await client.refresh().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "dpop_key_mismatch", status: 401, message: "wrong key" });
    expect(server.count("/refresh")).toBe(1);
  });
});

describe("DPoP proofs", () => {
  it("carry htm, the exact htu, a fresh jti and the public jwk only", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    await client.invalidateCache();
    await client.refresh();
    await client.logout();
    expect(server.proofs.length).toBe(3); // check, refresh, revoke: each verified by the server
    const paths = ["/login/otp/check", "/refresh", "/revoke"];
    server.proofs.forEach((proof, i) => {
      expect(proof.header).toMatchObject({ typ: "dpop+jwt", alg: "ES256" });
      expect(Object.keys(proof.header.jwk as object).sort()).toEqual(["crv", "kty", "x", "y"]);
      expect(proof.claims.htm).toBe("POST");
      expect(proof.claims.htu).toBe(`${ORIGIN}/v1/session${paths[i]}`);
    });
    expect(new Set(server.proofs.map((p) => p.claims.jti)).size).toBe(3);
    expect(new Set(server.proofs.map((p) => p.jkt)).size).toBe(1);
  });

  it("reuse the key stored in IndexedDB after a reload", async () => {
    const server = new FakeServer();
    const first = await loggedIn(server);
    first.close();
    const reloaded = makeClient(server);
    const { user } = await reloaded.refresh(); // the server binds the session to the first key
    expect(user.profile.sub).toBe("usr_otp");
    expect(new Set(server.proofs.map((p) => p.jkt)).size).toBe(1);
  });

  it("correct iat for a server clock that is ten minutes ahead", async () => {
    const server = new FakeServer();
    server.skewMs = 10 * 60_000;
    server.requireNonce = false; // only a correct iat gets through on the first try
    const client = makeClient(server);
    await client.startOTPLogin({ identifier: { type: "email_address", value: "ada@example.com" } });
    await client.checkOTP("123456");
    expect(server.count("/login/otp/check")).toBe(1);
    const iat = server.proofs[0]!.claims.iat as number;
    expect(Math.abs(iat - server.now() / 1000)).toBeLessThan(3);
  });

  it("without a Date header, a skewed server needs the nonce round trip", async () => {
    const server = new FakeServer();
    server.skewMs = 10 * 60_000;
    server.requireNonce = false;
    const client = makeClient(server, {
      fetch: async (url, init) => {
        const response = await server.fetch(url, init);
        response.headers.delete("Date");
        return response;
      },
    });
    await client.checkOTP("123456");
    expect(server.count("/login/otp/check")).toBe(2);
  });
});

describe("refresh and the cache", () => {
  it("serves the cached token, and invalidateCache forces a server call", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const cached = await client.refresh();
    expect(server.count("/refresh")).toBe(0);
    await client.invalidateCache();
    const fresh = await client.refresh();
    expect(server.count("/refresh")).toBe(1);
    expect(fresh.user.accessToken).not.toBe(cached.user.accessToken);
    expect(fresh.user.profile).toEqual(decode(fresh.user.accessToken).claims);
    await client.refresh();
    expect(server.count("/refresh")).toBe(1);
  });

  it("refreshes when the token has less than refreshMargin left", async () => {
    const server = new FakeServer();
    server.accessTtl = 20; // below the default 30 s margin
    const client = await loggedIn(server);
    await client.refresh();
    expect(server.count("/refresh")).toBe(1);

    const server2 = new FakeServer();
    server2.accessTtl = 20;
    const lenient = await loggedIn(server2, { refreshMargin: 5_000 });
    await lenient.refresh();
    expect(server2.count("/refresh")).toBe(0);
  });

  it("judges expiry on the server's clock", async () => {
    const server = new FakeServer();
    server.skewMs = -10 * 60_000; // the server is ten minutes behind this machine
    const client = await loggedIn(server);
    // By the local clock the token expired minutes ago; by the server's it has 300 s left.
    await client.refresh();
    expect(server.count("/refresh")).toBe(0);

    const ahead = new FakeServer();
    ahead.skewMs = 10 * 60_000;
    const other = await loggedIn(ahead);
    await other.refresh();
    expect(ahead.count("/refresh")).toBe(0);
  });

  it("shares one server call between concurrent refreshes in a tab", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    await client.invalidateCache();
    const results = await Promise.all([client.refresh(), client.refresh(), client.refresh()]);
    expect(server.count("/refresh")).toBe(1);
    expect(new Set(results.map((r) => r.user.accessToken)).size).toBe(1);
  });

  it("fails with unauthorized when there is no session", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    await expect(client.refresh()).rejects.toMatchObject({ code: "unauthorized", status: 401 });
  });
});

describe("password login", () => {
  it("trades the challenge token at /login/finalize with a proof", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    const { user } = await client.loginWithPassword({
      identifier: "ada@example.com",
      password: "correct horse",
    });
    expect(user.profile.sub).toBe("usr_password");
    const login = server.requests.find((r) => r.path === "/login/email/password")!;
    // Prelude's wire body: the e-mail address as a bare string.
    expect(login.body).toEqual({ identifier: "ada@example.com", password: "correct horse" });
    expect(login.headers.get("DPoP")).toBeNull();
    const finalize = server.requests.filter((r) => r.path === "/login/finalize");
    expect(finalize.at(-1)!.body).toEqual({
      challenge_token: expect.stringMatching(/^ch_/) as string,
    });
    expect(finalize.at(-1)!.proof).toBeDefined();
  });

  it("signs up with an e-mail address, then proves it with the code", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    const answer = await client.signUpWithEmail({
      identifier: "new@example.com",
      password: "Str0ng password",
    });
    expect(answer).toEqual({ status: "otp_required" });
    expect(server.requests[0]!.path).toBe("/login/email/sign-up");
    expect(server.requests[0]!.body).toEqual({
      identifier: "new@example.com",
      password: "Str0ng password",
    });
    expect(server.count("/login/finalize")).toBe(0);
    const { user } = await client.checkOTP("123456");
    expect(user.profile.sub).toBe("usr_otp");
  });

  it("signs in at once from a server that skips the proof", async () => {
    const server = new FakeServer();
    server.signUpNeedsCode = false;
    const client = makeClient(server);
    const answer = await client.signUpWithEmail({
      identifier: "new@example.com",
      password: "Str0ng password",
    });
    expect(answer.status).toBe("signed_in");
    if (answer.status !== "signed_in") throw new Error("unreachable");
    expect(answer.user.profile.sub).toBe("usr_new");
    const finalize = server.requests.filter((r) => r.path === "/login/finalize");
    expect(finalize.at(-1)!.body).toEqual({
      challenge_token: expect.stringMatching(/^ch_/) as string,
    });
  });

  it("maps wrong credentials to unauthorized, as Prelude's clients read them", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    await expect(
      client.loginWithPassword({ identifier: "ada@example.com", password: "nope" }),
    ).rejects.toMatchObject({
      code: "unauthorized",
    });
    expect(server.count("/login/finalize")).toBe(0);
  });

  it("validates a password against the server's policy, fetched once", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    const short = await client.validatePassword("short");
    expect(short.valid).toBe(false);
    expect(short.results.filter((r) => !r.valid).map((r) => r.criteria)).toEqual([
      "min_length",
      "uppercase",
      "numbers",
    ]);
    expect(short.results[0]).toEqual({
      criteria: "min_length",
      actual: 5,
      expected: 8,
      valid: false,
    });
    expect(await client.validatePassword("Longer password 1")).toMatchObject({ valid: true });
    expect(server.count("/password/compliancy")).toBe(1);
  });
});

describe("sessions", () => {
  it("lists with Bearer and no DPoP, passing limit and offset", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const page = await client.listSessions({ limit: 5, offset: 0 });
    expect(page).toMatchObject({ total: 1, limit: 5, offset: 0 });
    const list = server.requests.find((r) => r.path === "/me/list")!;
    expect(list.url).toBe(`${ORIGIN}/v1/session/me/list?limit=5&offset=0`);
    expect(list.headers.get("Authorization")).toMatch(/^Bearer /);
    expect(list.headers.get("DPoP")).toBeNull();
  });

  it("on a 401, refreshes once and retries once", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    server.rejectAccessTokens();
    const page = await client.listSessions();
    expect(page.total).toBe(1);
    expect(server.count("/refresh")).toBe(1);
    expect(server.count("/me/list")).toBe(2);
  });

  it("gives up after the one retry", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    server.overrides.push(
      () => json(401, { code: "unauthorized" }), // list
      () => undefined, // refresh
      () => json(401, { code: "unauthorized" }), // list again
    );
    await expect(client.listSessions()).rejects.toMatchObject({ code: "unauthorized" });
    expect(server.count("/me/list")).toBe(2);
    expect(server.count("/refresh")).toBe(1);
  });

  it("maps a paging error by its code, without a retry", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    await expect(client.listSessions({ limit: 500 })).rejects.toMatchObject({
      code: "invalid_pagination_limit",
      status: 400,
    });
    expect(server.count("/me/list")).toBe(1);
  });

  it("revokes others and keeps this session; revoking mine forgets the token", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    await client.revokeSessions("others");
    const revoke = server.requests.find((r) => r.path === "/me/revoke")!;
    expect(revoke.url).toBe(`${ORIGIN}/v1/session/me/revoke?target=others`);
    expect(revoke.headers.get("DPoP")).toBeNull();
    await client.refresh();
    expect(server.count("/refresh")).toBe(0);

    await client.revokeSessions("mine");
    await expect(client.refresh()).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("revokes one session by id", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const { sessions } = await client.listSessions();
    await client.revokeSessions("session", sessions[0]!.id);
    const revoke = server.requests.find((r) => r.path === "/me/revoke")!;
    expect(revoke.url).toBe(
      `${ORIGIN}/v1/session/me/revoke?target=session&session_id=${sessions[0]!.id}`,
    );
    await expect(client.revokeSessions("session")).rejects.toBeInstanceOf(TypeError);
    // That was this session: the cached token is forgotten and the next refresh fails.
    await expect(client.refresh()).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("keeps the cached token after revoking another session by id", async () => {
    const server = new FakeServer();
    const other = await loggedIn(server); // a second device of the same user
    const otherSid = (await other.refresh()).user.profile.sid as string;
    const client = await loggedIn(server);
    await client.revokeSessions("session", otherSid);
    await client.refresh();
    expect(server.count("/refresh")).toBe(0);
  });
});

describe("logout", () => {
  it("revokes with a proof and forgets the cached token", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    await client.logout();
    expect(server.requests.find((r) => r.path === "/revoke")!.proof).toBeDefined();
    expect(server.cookie).toBeUndefined();
    await expect(client.refresh()).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("sends no proof, and makes no key, when this browser never had one", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    await client.logout();
    expect(server.requests[0]!.headers.get("DPoP")).toBeNull();
    await client.logout();
    expect(server.requests[1]!.headers.get("DPoP")).toBeNull();
  });
});

describe("network failures and timeouts", () => {
  it("retries a network error with backoff, then succeeds", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    server.overrides.push(
      () => "network",
      () => "network",
    );
    await client.startOTPLogin({ identifier: { type: "email_address", value: "ada@example.com" } });
    expect(server.count("/login/otp")).toBe(3);
  });

  it("gives up after a bounded number of network errors", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    server.overrides.push(...Array.from({ length: 10 }, () => () => "network" as const));
    const error = await client.retryOTP().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "network_error", status: 0 });
    expect(server.count("/login/otp/retry")).toBe(3);
  });

  it("sends a new proof on each network retry", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    await client.validatePassword("x"); // any response, to learn nothing in particular
    server.overrides.push(() => "network");
    await client.checkOTP("123456");
    const proofs = server.requests
      .filter((r) => r.path === "/login/otp/check")
      .map((r) => r.headers.get("DPoP"));
    expect(proofs).toHaveLength(3); // network error, use_dpop_nonce, success
    expect(new Set(proofs).size).toBe(3);
  });

  it("does not retry HTTP errors", async () => {
    const server = new FakeServer();
    const client = makeClient(server);
    server.overrides.push(() =>
      json(429, { code: "rate_limited", message: "slow down" }, { "Retry-After": "42" }),
    );
    const error = await client.retryOTP().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "rate_limited", status: 429, retryAfter: 42 });
    expect(server.count("/login/otp/retry")).toBe(1);
  });

  it("times out a request that never answers", async () => {
    const server = new FakeServer();
    const client = makeClient(server, { timeout: 50 });
    server.overrides.push(() => "hang");
    const started = Date.now();
    const error = await client.retryOTP().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessileError);
    expect(error).toMatchObject({ code: "timeout", status: 0 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(server.count("/login/otp/retry")).toBe(1);
  });
});
