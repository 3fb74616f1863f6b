// Step-up with Prelude's own web SDK (@prelude.so/js-sdk 0.6.0, unchanged) in headless
// Chromium against a real sessile over HTTPS: requestStepUp("prld:pwd:write"), the e-mail
// code step (otpCreate, otpCheck), continueStepUp (which refreshes with the step-up token),
// a new password, a login with it, and the other session found revoked.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  callSdk,
  formatExchanges,
  readOutbox,
  waitForCode,
  openPage as openTestPage,
  startStack,
  suiteOptions,
} from "./harness.mjs";

describe("Prelude web SDK 0.6.0 step-up against sessile", suiteOptions(240_000), () => {
  let stack;
  let sessile;

  before(async () => {
    stack = await startStack();
    ({ sessile } = stack);
  }, { timeout: 120_000 });

  after(() => stack?.stop());

  const openPage = () => openTestPage(stack);

  const call = callSdk;

  async function must(browserPage, method, ...args) {
    const answer = await call(browserPage, method, ...args);
    if (!answer.ok) {
      await browserPage.exchanges.settle();
      assert.fail(
        `${method} failed: ${answer.name}: ${answer.message}\n${formatExchanges(browserPage.exchanges)}\n` +
          `server output:\n${sessile.output().slice(-3000)}`,
      );
    }
    return answer.value;
  }

  async function claims(browserPage, token) {
    return browserPage.page.evaluate((t) => window.prelude.decode(t), token);
  }

  async function code(browserPage, email, start) {
    const seen = readOutbox(sessile.outbox).length;
    await start();
    return waitForCode(sessile.outbox, email, seen);
  }

  /** A Bearer call the app makes itself, with the SDK's current access token. */
  async function bearerPost(browserPage, path, body) {
    const token = await must(browserPage, "getAccessToken");
    return browserPage.page.evaluate(
      async ([url, accessToken, json]) => {
        const response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${accessToken}` },
          body: JSON.stringify(json),
        });
        return { status: response.status, body: await response.json() };
      },
      [`${sessile.publicUrl}/v1/session${path}`, token, body],
    );
  }

  const email = `stepup-${Date.now()}@example.com`;
  const password = "A-new-passphrase-42";
  let mine;
  let other;
  let profile;

  it("two browsers log in by code as the same user", async () => {
    mine = await openPage();
    other = await openPage();
    for (const browserPage of [mine, other]) {
      const sent = await code(browserPage, email, () =>
        must(browserPage, "startOTPLogin", { identifier: { type: "email_address", value: email } }),
      );
      await must(browserPage, "checkOTP", sent);
    }
    profile = await must(mine, "getProfile");
    assert.equal(profile.scope, "session");
  });

  it("a scope that isn't configured is a ScopeNotAllowedError", async () => {
    const answer = await call(mine, "requestStepUp", { scope: "admin:everything" });
    assert.equal(answer.name, "ScopeNotAllowedError", answer.message);
  });

  it("requestStepUp, otpCreate, otpCheck and continueStepUp grant prld:pwd:write", async () => {
    const asked = await must(mine, "requestStepUp", { scope: "prld:pwd:write", metadata: { reason: "settings" } });
    assert.equal(asked.status, "continue");
    const challenge = await claims(mine, asked.challenge_token);
    assert.equal(challenge.current_step, "email_otp");
    assert.equal(challenge.scope_requested, "prld:pwd:write");
    assert.equal(challenge.sid, profile.sid);
    assert.deepEqual(challenge.steps.map((s) => [s.order, s.key, s.done]), [[1, "email_otp", false]]);

    const sent = await code(mine, email, () => must(mine, "otpCreate", { challengeId: challenge.challenge_id }));
    const wrong = await call(mine, "otpCheck", challenge.challenge_id, sent === "000000" ? "111111" : "000000");
    assert.equal(wrong.name, "BadRequestError", wrong.message);
    const checked = await must(mine, "otpCheck", challenge.challenge_id, sent);
    const proven = await claims(mine, checked.challenge_token);
    assert.equal(proven.current_step, "email_otp");
    assert.equal(proven.steps[0].done, true);
    // The check's DPoP proof carried the challenge token's jti.
    await mine.exchanges.settle();
    const check = mine.exchanges.filter((e) => e.url.endsWith("/otp/check") && e.status === 200).at(-1);
    const proofJti = await claims(mine, check.requestHeaders.dpop);
    assert.equal(proofJti.jti, challenge.jti);

    const moved = await must(mine, "continueStepUp", checked.verification_token);
    assert.equal((await claims(mine, moved.challenge_token)).current_step, "completed");
    // The SDK refreshed with the step-up token; the new access token carries the scope.
    await mine.exchanges.settle();
    const refresh = mine.exchanges.filter((e) => e.url.endsWith("/refresh")).at(-1);
    assert.equal(refresh.status, 200, formatExchanges(mine.exchanges));
    assert.equal(JSON.parse(refresh.requestBody).step_up_token, moved.challenge_token);
    const granted = await must(mine, "getProfile");
    assert.deepEqual(granted.scope.split(" "), ["session", "prld:pwd:write"]);
    assert.equal(granted.sid, profile.sid);
  });

  it("the step-up token works once: a second use is a TokenReusedError", async () => {
    const refresh = mine.exchanges.filter((e) => e.url.endsWith("/refresh")).at(-1);
    const token = JSON.parse(refresh.requestBody).step_up_token;
    await must(mine, "invalidateCache");
    const again = await call(mine, "refresh", { challenge: { token, id: "again" } });
    assert.equal(again.name, "TokenReusedError", again.message);
  });

  it("the password changes; a login with it works and the other session is revoked", async () => {
    await must(mine, "invalidateCache");
    const refreshed = await must(mine, "refresh");
    assert.ok(refreshed.user.profile.scope.includes("prld:pwd:write"), "the grant lasts on plain refreshes");
    const changed = await bearerPost(mine, "/me/password/reset", { password });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));

    const fresh = await openPage();
    await must(fresh, "loginWithPassword", { identifier: email, password });
    assert.equal((await must(fresh, "getProfile")).sub, profile.sub);

    await must(other, "invalidateCache");
    const ended = await call(other, "refresh");
    assert.equal(ended.name, "UnauthorizedError", ended.message);
    const sessions = await must(mine, "listSessions");
    assert.ok(!sessions.sessions.some((s) => s.id === ended.sid));
  });

  it("without the scope, the password reset is refused", async () => {
    const fresh = await openPage();
    await must(fresh, "loginWithPassword", { identifier: email, password });
    const refused = await bearerPost(fresh, "/me/password/reset", { password: "Another-one-99" });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, "forbidden");
  });
});
