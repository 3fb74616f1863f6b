import { describe, expect, it } from "vitest";

import {
  ForbiddenError,
  MissingChallengeTokenError,
  PrldErrors,
  SessileError,
  decode,
  type SessionClient,
  type StepUpChallengeInfo,
} from "../src/index.js";
import { FakeServer, STEP_CODE, json, signedLooking, type RequestSeen } from "./fake-server.js";
import { MemoryStorage, loggedIn, makeClient, useFreshBrowser } from "./helpers.js";

useFreshBrowser();

/** Every `onChallenge` call, in order. */
function recorder(): {
  seen: StepUpChallengeInfo[];
  onChallenge: (i: StepUpChallengeInfo) => void;
} {
  const seen: StepUpChallengeInfo[] = [];
  return { seen, onChallenge: (info) => seen.push(info) };
}

function last(server: FakeServer, path: string): RequestSeen {
  const request = server.requests.filter((r) => r.path === path).at(-1);
  if (!request) throw new Error(`no request to ${path}`);
  return request;
}

function bodyOf(request: RequestSeen): Record<string, unknown> {
  return request.body as Record<string, unknown>;
}

function claimsOf(token: unknown): Record<string, unknown> {
  return decode(String(token)).claims;
}

async function scopeOf(client: SessionClient): Promise<string> {
  return String((await client.getProfile())?.scope);
}

/** The app backend's verification token for its own step. */
function verificationToken(challengeId: string, key: string): string {
  return signedLooking(
    { alg: "RS256", typ: "JWT" },
    { sub: "usr_otp", challenge_id: challengeId, key, status: "completed", jti: "vt_1", exp: 2e9 },
  );
}

describe("requestStepUp", () => {
  it("asks with Bearer, keeps a review challenge and tells onChallenge its claims", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const { seen, onChallenge } = recorder();
    const answer = await client.requestStepUp({
      scope: "prld:pwd:write",
      metadata: { reason: "settings" },
      onChallenge,
    });

    expect(answer.status).toBe("review");
    const request = last(server, "/stepup/request");
    expect(request.headers.get("Authorization")).toMatch(/^Bearer /);
    expect(request.headers.has("DPoP")).toBe(false);
    expect(request.body).toEqual({ scope: "prld:pwd:write", metadata: { reason: "settings" } });
    const claims = claimsOf(answer.challenge_token);
    const profile = await client.getProfile();
    expect(seen).toEqual([
      {
        currentStep: "verify_email",
        scopeRequested: "prld:pwd:write",
        userId: profile?.sub,
        sessionId: profile?.sid,
        challengeId: claims.challenge_id,
        steps: [{ order: 1, key: "verify_email", done: false, expirationDuration: 300 }],
        metadata: { reason: "settings" },
      },
    ]);
    // Nothing is granted yet: no refresh with a step-up token.
    expect(server.requests.some((r) => bodyOf(r)?.step_up_token !== undefined)).toBe(false);
  });

  it("with continue, refreshes at once with the completed token", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const { seen, onChallenge } = recorder();
    const answer = await client.requestStepUp({ scope: "app:instant", onChallenge });

    expect(answer.status).toBe("continue");
    const refresh = last(server, "/refresh");
    expect(bodyOf(refresh).step_up_token).toBe(answer.challenge_token);
    expect(refresh.proof).toBeDefined();
    expect(await scopeOf(client)).toBe("session app:instant");
    expect(seen.map((i) => i.currentStep)).toEqual(["completed"]);
    expect(seen[0]!.steps).toEqual([]);
  });

  it("with block, keeps nothing and tells no one", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const { seen, onChallenge } = recorder();
    const refreshes = server.count("/refresh");
    expect(await client.requestStepUp({ scope: "app:never", onChallenge })).toEqual({
      status: "block",
    });
    expect(seen).toEqual([]);
    expect(server.count("/refresh")).toBe(refreshes);
  });

  it("refuses an answer without a status", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    await client.refresh();
    server.overrides.push(() => new Response(null, { status: 204 }));
    await expect(client.requestStepUp({ scope: "prld:pwd:write" })).rejects.toMatchObject({
      code: "internal",
    });
  });

  it("maps a scope that isn't configured to ScopeNotAllowedError", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const error = await client.requestStepUp({ scope: "admin:all" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrldErrors.ScopeNotAllowed);
    expect(error).toMatchObject({ code: "scope_not_allowed", status: 403 });
  });

  it("refreshes once and retries once when the access token is refused", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    await client.refresh();
    server.rejectAccessTokens();
    const answer = await client.requestStepUp({ scope: "prld:pwd:write" });
    expect(answer.status).toBe("review");
    expect(server.count("/stepup/request")).toBe(2);
  });
});

describe("a code step", () => {
  it("otpCreate sends the kept token, without Bearer or proof; otpRetry resends", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const { seen, onChallenge } = recorder();
    const { challenge_token } = await client.requestStepUp({
      scope: "prld:pwd:write",
      onChallenge,
    });
    const challengeId = seen[0]!.challengeId;

    await client.otpCreate({ challengeId });
    const create = last(server, "/otp");
    expect(create.body).toEqual({ challenge_token });
    expect(create.headers.has("Authorization")).toBe(false);
    expect(create.headers.has("DPoP")).toBe(false);
    expect(create.credentials).toBe("include");
    expect(server.codesSent).toEqual([{ to: "ada@example.com", challengeId }]);

    await client.otpCreate({ challengeId, dispatchId: "dsp_1" });
    expect(last(server, "/otp").body).toEqual({ challenge_token, dispatch_id: "dsp_1" });

    await client.otpRetry();
    const retry = last(server, "/otp/retry");
    expect(retry.body).toBeUndefined();
    expect(retry.status).toBe(204);
  });

  it("otpCheck proves the code with the challenge's proof, then refreshes with the grant", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const { seen, onChallenge } = recorder();
    const { challenge_token } = await client.requestStepUp({
      scope: "prld:pwd:write",
      onChallenge,
    });
    const challengeId = seen[0]!.challengeId;
    await client.otpCreate({ challengeId });

    const answer = await client.otpCheck(challengeId, STEP_CODE, onChallenge);

    const check = last(server, "/otp/check");
    expect(check.body).toEqual({ code: STEP_CODE, challenge_token });
    expect(check.headers.has("Authorization")).toBe(false);
    // The proof carries the challenge token's jti, no nonce, by the session's key.
    expect(check.proof?.claims.jti).toBe(claimsOf(challenge_token).jti);
    expect(check.proof?.claims).not.toHaveProperty("nonce");
    expect(check.proof?.jkt).toBe(server.proofs[0]!.jkt);
    expect(check.proof?.claims.htu).toBe(check.url);

    expect(claimsOf(answer.challenge_token).current_step).toBe("completed");
    expect(bodyOf(last(server, "/refresh")).step_up_token).toBe(answer.challenge_token);
    expect(await scopeOf(client)).toBe("session prld:pwd:write");
    expect(seen.map((i) => i.currentStep)).toEqual(["verify_email", "completed"]);
    expect(seen[1]!.steps).toEqual([
      { order: 1, key: "verify_email", done: true, expirationDuration: 300 },
    ]);

    // Redeemed: the challenge is no longer kept.
    await expect(client.otpCreate({ challengeId })).rejects.toBeInstanceOf(
      MissingChallengeTokenError,
    );
  });

  it("a wrong code is a BadRequestError and the challenge stays usable", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const { seen, onChallenge } = recorder();
    await client.requestStepUp({ scope: "prld:pwd:write", onChallenge });
    const challengeId = seen[0]!.challengeId;
    await client.otpCreate({ challengeId });

    const wrong = await client
      .otpCheck(challengeId, "000000", onChallenge)
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(PrldErrors.BadRequest);
    expect(wrong).toMatchObject({ code: "bad_check_code" });
    expect(seen).toHaveLength(1);

    await client.otpCheck(challengeId, STEP_CODE, onChallenge);
    expect(seen.at(-1)!.currentStep).toBe("completed");
    expect(await scopeOf(client)).toBe("session prld:pwd:write");
  });

  it("needs a kept challenge: an unknown id fails here, with no request", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const before = server.requests.length;
    const error = await client.otpCheck("stp_unknown", STEP_CODE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingChallengeTokenError);
    expect(error).toMatchObject({ code: "missing_challenge_token", status: 0 });
    await expect(client.otpCreate({ challengeId: "stp_unknown" })).rejects.toBeInstanceOf(
      MissingChallengeTokenError,
    );
    expect(server.requests.length).toBe(before);
  });

  it("drops a challenge once its exp has passed on the server's clock", async () => {
    const server = new FakeServer();
    server.challengeTtl = 60;
    const client = await loggedIn(server);
    const { seen, onChallenge } = recorder();
    await client.requestStepUp({ scope: "prld:pwd:write", onChallenge });
    const challengeId = seen[0]!.challengeId;
    await client.otpCreate({ challengeId });

    // The server's clock moves two minutes on; the next answer's Date header says so.
    server.skewMs = 120_000;
    await client.otpRetry();
    const before = server.requests.length;
    await expect(client.otpCheck(challengeId, STEP_CODE)).rejects.toBeInstanceOf(
      MissingChallengeTokenError,
    );
    expect(server.requests.length).toBe(before);
  });
});

describe("a challenge of several steps", () => {
  it("moves through a code, the password and the app's own step, each with the newest token", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const { seen, onChallenge } = recorder();
    await client.requestStepUp({ scope: "app:transfer", onChallenge });
    const challengeId = seen[0]!.challengeId;
    expect(seen[0]!.steps.map((s) => [s.order, s.key, s.done])).toEqual([
      [1, "verify_email", false],
      [2, "verify_password", false],
      [3, "app_review", false],
    ]);

    await client.otpCreate({ challengeId });
    const afterCode = await client.otpCheck(challengeId, STEP_CODE, onChallenge);
    expect(seen.at(-1)!.currentStep).toBe("verify_password");
    expect(seen.at(-1)!.steps.map((s) => s.done)).toEqual([true, false, false]);
    // Not completed: no refresh with it.
    expect(server.requests.some((r) => bodyOf(r)?.step_up_token !== undefined)).toBe(false);

    const wrong = await client
      .passwordCheck(challengeId, "wrong", onChallenge)
      .catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(PrldErrors.InvalidPassword);
    const afterPassword = await client.passwordCheck(challengeId, "correct horse", onChallenge);
    const password = last(server, "/stepup/password");
    expect(password.body).toEqual({
      password: "correct horse",
      challenge_token: afterCode.challenge_token,
    });
    expect(password.proof?.claims.jti).toBe(claimsOf(afterCode.challenge_token).jti);
    expect(seen.at(-1)!.currentStep).toBe("app_review");

    const verification = verificationToken(challengeId, "app_review");
    const done = await client.continueStepUp(verification, onChallenge);
    const cont = last(server, "/stepup/continue");
    expect(cont.headers.get("Authorization")).toMatch(/^Bearer /);
    expect(cont.body).toEqual({
      challenge_token: afterPassword.challenge_token,
      verification_token: verification,
    });
    expect(cont.proof?.claims.jti).toBe(claimsOf(afterPassword.challenge_token).jti);
    expect(claimsOf(done.challenge_token).current_step).toBe("completed");
    expect(seen.at(-1)!.currentStep).toBe("completed");
    expect(seen.at(-1)!.steps.every((s) => s.done)).toBe(true);
    expect(bodyOf(last(server, "/refresh")).step_up_token).toBe(done.challenge_token);
    expect(await scopeOf(client)).toBe("session app:transfer");
  });

  it("continueStepUp finds the challenge by the verification token's challenge_id", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const before = server.requests.length;
    await expect(
      client.continueStepUp(verificationToken("stp_other", "app_review")),
    ).rejects.toBeInstanceOf(MissingChallengeTokenError);
    await expect(
      client.continueStepUp(signedLooking({ alg: "RS256" }, { key: "app_review" })),
    ).rejects.toThrow(/challenge_id/);
    await expect(client.continueStepUp("not a token")).rejects.toBeInstanceOf(TypeError);
    expect(server.requests.length).toBe(before);
  });

  it("carries on after a reload when the client keeps its state in storage", async () => {
    const server = new FakeServer();
    const storage = new MemoryStorage();
    const first = await loggedIn(server, { storage });
    const { seen, onChallenge } = recorder();
    await first.requestStepUp({ scope: "prld:pwd:write", onChallenge });
    const challengeId = seen[0]!.challengeId;
    await first.otpCreate({ challengeId });
    first.close();

    const reloaded = makeClient(server, { storage });
    await reloaded.otpCheck(challengeId, STEP_CODE, onChallenge);
    expect(seen.at(-1)!.currentStep).toBe("completed");
    expect(await scopeOf(reloaded)).toBe("session prld:pwd:write");

    // A logout forgets pending challenges too.
    await reloaded.requestStepUp({ scope: "prld:pwd:write", onChallenge });
    const pending = seen.at(-1)!.challengeId;
    await reloaded.logout();
    const again = makeClient(server, { storage });
    await expect(again.otpCreate({ challengeId: pending })).rejects.toBeInstanceOf(
      MissingChallengeTokenError,
    );
  });
});

describe("account calls", () => {
  async function granted(server: FakeServer): Promise<SessionClient> {
    const client = await loggedIn(server);
    const { seen, onChallenge } = recorder();
    await client.requestStepUp({ scope: "prld:pwd:write", onChallenge });
    await client.otpCreate({ challengeId: seen[0]!.challengeId });
    await client.otpCheck(seen[0]!.challengeId, STEP_CODE);
    return client;
  }

  it("resetPassword spends prld:pwd:write: the cached token drops it, a second change is refused", async () => {
    const server = new FakeServer();
    const client = await granted(server);
    expect(await scopeOf(client)).toBe("session prld:pwd:write");

    await client.resetPassword({ password: "Str0ng passw0rd!" });
    const reset = last(server, "/me/password/reset");
    expect(reset.status).toBe(204);
    expect(reset.body).toEqual({ password: "Str0ng passw0rd!" });
    expect(reset.headers.get("Authorization")).toMatch(/^Bearer /);
    expect(await scopeOf(client)).toBe("session");

    const again = await client.resetPassword({ password: "An0ther one!" }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ForbiddenError);
    expect(again).toBeInstanceOf(SessileError);
    expect(again).toMatchObject({ code: "insufficient_scope", status: 403 });
  });

  it("resetPassword without the scope is insufficient_scope", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    await expect(client.resetPassword({ password: "Str0ng passw0rd!" })).rejects.toMatchObject({
      code: "insufficient_scope",
    });
  });

  it("a register scope sends the code to the new phone, and the check adds it", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    expect(await client.listIdentifiers()).toEqual({
      identifiers: [{ type: "email_address", value: "ada@example.com", verified: true }],
    });
    expect(last(server, "/me/identifiers").headers.get("Authorization")).toMatch(/^Bearer /);

    const { seen, onChallenge } = recorder();
    await client.requestStepUp({
      scope: "prld:phone:register",
      metadata: { identifier: "+33612345678" },
      onChallenge,
    });
    const challengeId = seen[0]!.challengeId;
    expect(seen[0]!.currentStep).toBe("verify_sms");
    expect(seen[0]!.metadata).toEqual({ identifier: "+33612345678" });
    await client.otpCreate({ challengeId });
    expect(server.codesSent.at(-1)).toEqual({ to: "+33612345678", challengeId });
    await client.otpCheck(challengeId, STEP_CODE, onChallenge);

    expect((await client.listIdentifiers()).identifiers).toContainEqual({
      type: "phone_number",
      value: "+33612345678",
      verified: true,
    });
    expect(await scopeOf(client)).toBe("session prld:phone:register");
  });

  it("removeIdentifier needs its type's register scope", async () => {
    const server = new FakeServer();
    server.identifiers
      .get("usr_otp")!
      .push(
        { type: "email_address", value: "old@example.com", verified: true },
        { type: "phone_number", value: "+33600000000", verified: true },
      );
    const client = await loggedIn(server);
    const refused = await client
      .removeIdentifier({ type: "email_address", value: "old@example.com" })
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "insufficient_scope" });

    const { seen, onChallenge } = recorder();
    await client.requestStepUp({
      scope: "prld:email:register",
      metadata: { identifier: "new@example.com" },
      onChallenge,
    });
    await client.otpCreate({ challengeId: seen[0]!.challengeId });
    await client.otpCheck(seen[0]!.challengeId, STEP_CODE);

    await client.removeIdentifier({ type: "email_address", value: "old@example.com" });
    const removal = last(server, "/me/identifiers/remove");
    expect(removal.body).toEqual({
      identifier: { type: "email_address", value: "old@example.com" },
    });
    // A proof by the session's key, fresh by the server's nonce, goes with the Bearer token.
    expect(removal.proof?.jkt).toBe(last(server, "/refresh").proof?.jkt);
    expect(removal.proof?.claims.htm).toBe("POST");
    expect(removal.proof?.claims.nonce).toEqual(expect.any(String));
    const values = (await client.listIdentifiers()).identifiers.map((i) => i.value);
    expect(values).toEqual(["ada@example.com", "+33600000000", "new@example.com"]);
    // The e-mail scope removes no phone.
    await expect(
      client.removeIdentifier({ type: "phone_number", value: "+33600000000" }),
    ).rejects.toMatchObject({ code: "insufficient_scope" });
  });

  it("removeIdentifier signs again with the server's nonce when it asks, without a refresh", async () => {
    const server = new FakeServer();
    server.identifiers
      .get("usr_otp")!
      .push({ type: "email_address", value: "old@example.com", verified: true });
    const client = await loggedIn(server);
    const { seen, onChallenge } = recorder();
    await client.requestStepUp({
      scope: "prld:email:register",
      metadata: { identifier: "new@example.com" },
      onChallenge,
    });
    await client.otpCreate({ challengeId: seen[0]!.challengeId });
    await client.otpCheck(seen[0]!.challengeId, STEP_CODE);
    const refreshes = server.count("/refresh");
    server.overrides.push(() => json(401, { code: "use_dpop_nonce" }));

    await client.removeIdentifier({ type: "email_address", value: "old@example.com" });
    const attempts = server.requests.filter((r) => r.path === "/me/identifiers/remove");
    expect(attempts).toHaveLength(2);
    // A new proof, with a nonce the server accepts (it requires one).
    expect(attempts[1]!.headers.get("DPoP")).not.toBe(attempts[0]!.headers.get("DPoP"));
    expect(attempts[1]!.proof?.claims.nonce).toEqual(expect.any(String));
    expect(server.count("/refresh")).toBe(refreshes);
  });

  it("resetPassword signs with the session's key", async () => {
    const server = new FakeServer();
    const client = await loggedIn(server);
    const { seen, onChallenge } = recorder();
    await client.requestStepUp({ scope: "prld:pwd:write", onChallenge });
    await client.otpCreate({ challengeId: seen[0]!.challengeId });
    await client.otpCheck(seen[0]!.challengeId, STEP_CODE);
    await client.resetPassword({ password: "Str0ng passw0rd!" });
    expect(last(server, "/me/password/reset").proof?.jkt).toBe(last(server, "/refresh").proof?.jkt);
  });
});
