// Step-up with Prelude's own web SDK (@prelude.so/js-sdk 0.6.0, unchanged) in headless
// Chromium against a real sessile over HTTPS, driven exactly as Prelude's web guides
// write it: `requestStepUp` with `onChallenge` (which calls `otpCreate` for a managed OTP
// step), then `otpCheck`; the SDK refreshes with the completed challenge by itself, and
// `onChallenge` sees "completed". No call the guides don't make: the test asserts that
// nothing went to /stepup/continue. Then a new password through the documented route, and
// `prld:email:register` adding an address.
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
    if (!answer.ok) await failWith(browserPage, method, answer);
    return answer.value;
  }

  async function failWith(browserPage, what, answer) {
    await browserPage.exchanges.settle();
    assert.fail(
      `${what} failed: ${answer.name}: ${answer.message}\n${formatExchanges(browserPage.exchanges)}\n` +
        `server output:\n${sessile.output().slice(-3000)}`,
    );
  }

  /** The guide's `requestStepUp({scope, metadata, onChallenge})`, in the page. */
  async function requestStepUp(browserPage, options) {
    const answer = await browserPage.page.evaluate((o) => window.prelude.stepUp.request(o), options);
    if (!answer.ok) await failWith(browserPage, "requestStepUp", answer);
    return answer.value;
  }

  /** The guide's `otpCheck(challengeId, code, onChallenge)`, in the page. */
  function otpCheck(browserPage, challengeId, code) {
    return browserPage.page.evaluate(([id, c]) => window.prelude.stepUp.check(id, c), [challengeId, code]);
  }

  const challenges = (browserPage) => browserPage.page.evaluate(() => window.prelude.stepUp.challenges());

  /** A Bearer call the app makes itself to a documented route, with the SDK's access token. */
  async function bearerPost(browserPage, path, body) {
    const token = await must(browserPage, "getAccessToken");
    return browserPage.page.evaluate(
      async ([url, accessToken, json]) => {
        const response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${accessToken}` },
          body: JSON.stringify(json),
        });
        const text = await response.text();
        return { status: response.status, body: text ? JSON.parse(text) : null };
      },
      [`${sessile.publicUrl}/v1/session${path}`, token, body],
    );
  }

  async function logIn(browserPage, address) {
    const seen = readOutbox(sessile.outbox).length;
    await must(browserPage, "startOTPLogin", { identifier: { type: "email_address", value: address } });
    await must(browserPage, "checkOTP", await waitForCode(sessile.outbox, address, seen));
  }

  const email = `stepup-${Date.now()}@example.com`;
  const added = `added-${Date.now()}@example.com`;
  const password = "A-new-passphrase-42";
  let mine;
  let other;
  let profile;

  it("two browsers log in by code as the same user", async () => {
    mine = await openPage();
    other = await openPage();
    await logIn(mine, email);
    await logIn(other, email);
    profile = await must(mine, "getProfile");
    assert.equal(profile.scope, "session");
  });

  it("a scope that isn't configured is a ScopeNotAllowedError", async () => {
    const answer = await call(mine, "requestStepUp", { scope: "admin:everything" });
    assert.equal(answer.name, "ScopeNotAllowedError", answer.message);
  });

  it("requestStepUp with onChallenge, otpCreate and otpCheck grant prld:pwd:write", async () => {
    const seen = readOutbox(sessile.outbox).length;
    const asked = await requestStepUp(mine, { scope: "prld:pwd:write", metadata: { reason: "settings" } });
    assert.equal(asked.status, "review");
    const [first] = await challenges(mine);
    assert.equal(first.currentStep, "verify_email");
    assert.equal(first.scopeRequested, "prld:pwd:write");
    assert.equal(first.sessionId, profile.sid);
    assert.equal(first.userId, profile.sub);
    assert.deepEqual(first.metadata, { reason: "settings" });
    assert.deepEqual(
      first.steps.map((s) => [s.order, s.key, s.done]),
      [[1, "verify_email", false]],
    );
    // onChallenge sent the code (otpCreate); the user types it.
    const code = await waitForCode(sessile.outbox, email, seen);
    const wrong = await otpCheck(mine, first.challengeId, code === "000000" ? "111111" : "000000");
    assert.equal(wrong.name, "BadRequestError", wrong.message);
    const checked = await otpCheck(mine, first.challengeId, code);
    if (!checked.ok) await failWith(mine, "otpCheck", checked);

    const last = (await challenges(mine)).at(-1);
    assert.equal(last.currentStep, "completed");
    assert.deepEqual(last.steps.map((s) => s.done), [true]);
    const granted = await must(mine, "getProfile");
    assert.deepEqual(granted.scope.split(" "), ["session", "prld:pwd:write"]);
    assert.equal(granted.sid, profile.sid);

    await mine.exchanges.settle();
    // The check's DPoP proof carried the challenge token's jti.
    const check = mine.exchanges.filter((e) => e.url.endsWith("/otp/check") && e.status === 200).at(-1);
    const proof = await mine.page.evaluate((t) => window.prelude.decode(t), check.requestHeaders.dpop);
    const before = await mine.page.evaluate((t) => window.prelude.decode(t), JSON.parse(check.requestBody).challenge_token);
    assert.equal(proof.jti, before.jti);
    // The SDK refreshed with the completed token on its own; no other call was needed.
    const refresh = mine.exchanges.filter((e) => e.url.endsWith("/refresh")).at(-1);
    assert.equal(refresh.status, 200, formatExchanges(mine.exchanges));
    assert.equal(JSON.parse(refresh.requestBody).step_up_token, JSON.parse(check.responseBody).challenge_token);
    assert.equal(mine.exchanges.filter((e) => e.url.endsWith("/stepup/continue")).length, 0);
  });

  it("the password changes once; a login with it works and the other session is revoked", async () => {
    const changed = await bearerPost(mine, "/me/password/reset", { password });
    assert.equal(changed.status, 204, JSON.stringify(changed.body));
    // One grant, one change.
    const again = await bearerPost(mine, "/me/password/reset", { password: "Another-one-99" });
    assert.equal(again.status, 403);
    assert.equal(again.body.code, "insufficient_scope");

    const fresh = await openPage();
    await must(fresh, "loginWithPassword", { identifier: email, password });
    assert.equal((await must(fresh, "getProfile")).sub, profile.sub);

    await must(other, "invalidateCache");
    const ended = await call(other, "refresh");
    assert.equal(ended.name, "UnauthorizedError", ended.message);
  });

  it("prld:email:register adds an address once its code is proven", async () => {
    const seen = readOutbox(sessile.outbox).length;
    const asked = await requestStepUp(mine, { scope: "prld:email:register", metadata: { identifier: added } });
    assert.equal(asked.status, "review");
    const current = (await challenges(mine)).at(-1);
    assert.equal(current.currentStep, "verify_email");
    assert.equal(current.scopeRequested, "prld:email:register");
    // The code goes to the address being added.
    const code = await waitForCode(sessile.outbox, added, seen);
    const checked = await otpCheck(mine, current.challengeId, code);
    if (!checked.ok) await failWith(mine, "otpCheck", checked);
    assert.equal((await challenges(mine)).at(-1).currentStep, "completed");

    // The new address logs in to the same account.
    const third = await openPage();
    await logIn(third, added);
    assert.equal((await must(third, "getProfile")).sub, profile.sub);
  });

  it("without the scope, the password reset is refused", async () => {
    const fresh = await openPage();
    await must(fresh, "loginWithPassword", { identifier: email, password });
    const refused = await bearerPost(fresh, "/me/password/reset", { password: "Another-one-99" });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, "insufficient_scope");
  });
});
