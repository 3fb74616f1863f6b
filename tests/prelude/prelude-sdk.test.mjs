// Prelude's own web SDK (@prelude.so/js-sdk 0.6.0, unchanged, without sdkKey) in
// headless Chromium against a real sessile server over HTTPS: code login,
// refresh, session list, "revoke others", logout, sign-up (proving the address by code)
// and password login.
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

const SESSION_FIELDS = ["country_code", "created_at", "device_model", "device_type", "expires_at", "id", "last_seen_at", "os_version"];

describe("Prelude web SDK 0.6.0 against sessile", suiteOptions(60_000), () => {
  let stack;
  let sessile;
  let pageServer;
  const contexts = [];

  before(async () => {
    stack = await startStack();
    ({ sessile, pageServer } = stack);
  }, { timeout: 45_000 });

  after(() => stack?.stop());

  /** A fresh browser profile with the test page loaded; closed when the file is done. */
  async function openPage() {
    const browserPage = await openTestPage(stack);
    contexts.push(browserPage);
    return browserPage;
  }

  const call = callSdk;

  /** A call that must succeed; on failure the message carries the last exchanges with the server. */
  async function must(browserPage, method, ...args) {
    const answer = await call(browserPage, method, ...args);
    if (!answer.ok) {
      await browserPage.exchanges.settle();
      assert.fail(
        `${method}(${JSON.stringify(args)}) failed: ${answer.name}: ${answer.message}\n` +
          `last exchanges with sessile:\n${formatExchanges(browserPage.exchanges)}\n` +
          `page console:\n${browserPage.consoleLines.slice(-10).join("\n")}\n` +
          `server output:\n${sessile.output().slice(-3000)}`,
      );
    }
    return answer.value;
  }

  async function claims(browserPage, token) {
    return browserPage.page.evaluate((t) => window.prelude.decode(t), token);
  }

  async function exchangesTo(browserPage, method, path) {
    await browserPage.exchanges.settle();
    return browserPage.exchanges.filter((e) => e.method === method && new URL(e.url).pathname === `/v1/session${path}`);
  }

  /** startOTPLogin + checkOTP with the code from the outbox; the access token's claims. */
  async function loginWithCode(browserPage, email) {
    const seen = readOutbox(sessile.outbox).length;
    await must(browserPage, "startOTPLogin", { identifier: { type: "email_address", value: email } });
    const code = await waitForCode(sessile.outbox, email, seen);
    const answer = await must(browserPage, "checkOTP", code);
    assert.equal(typeof answer.access_token, "string");
    assert.equal(typeof answer.expires_at, "number");
    return claims(browserPage, answer.access_token);
  }

  async function sessionIds(browserPage) {
    const list = await must(browserPage, "listSessions");
    for (const session of list.sessions) assert.deepEqual(Object.keys(session).sort(), SESSION_FIELDS);
    assert.equal(list.total, list.sessions.length);
    return list.sessions.map((s) => s.id).sort();
  }

  describe("code login, refresh, sessions, revoke others, logout", () => {
    const email = `otp-${Date.now()}@example.com`;
    let first;
    let second;
    let firstClaims;
    let secondClaims;

    it("logs in with startOTPLogin and checkOTP (the code from the outbox)", async () => {
      first = await openPage();
      firstClaims = await loginWithCode(first, email);
      assert.match(firstClaims.sub, /^usr_/);
      assert.match(firstClaims.sid, /^ses_/);
      // The page was served from the same site, so the SDK's cookie rode along.
      assert.equal((await exchangesTo(first, "POST", "/login/otp/check")).at(-1).status, 200);
      const profile = await must(first, "getProfile");
      assert.equal(profile.sid, firstClaims.sid);
    });

    it("refresh() answers the cached token, and after invalidateCache() rotates through /refresh", async () => {
      const cached = await must(first, "refresh");
      assert.equal(cached.user.profile.sid, firstClaims.sid);
      assert.equal((await exchangesTo(first, "POST", "/refresh")).length, 0);

      await must(first, "invalidateCache");
      const refreshed = await must(first, "refresh");
      const refreshes = await exchangesTo(first, "POST", "/refresh");
      assert.equal(refreshes.at(-1).status, 200, formatExchanges(refreshes));
      assert.equal(refreshed.user.profile.sid, firstClaims.sid);
      assert.equal(refreshed.user.profile.sub, firstClaims.sub);
      assert.notEqual(refreshed.user.profile.jti, firstClaims.jti);

      // Twice more in a row: the rotated cookie and the stored nonce keep working.
      for (let i = 0; i < 2; i++) {
        await must(first, "invalidateCache");
        await must(first, "refresh");
      }
      assert.equal((await exchangesTo(first, "POST", "/refresh")).filter((e) => e.status === 200).length, 3);
    });

    it("a second browser logs in as the same user; listSessions() shows both", async () => {
      second = await openPage();
      secondClaims = await loginWithCode(second, email);
      assert.equal(secondClaims.sub, firstClaims.sub);
      assert.notEqual(secondClaims.sid, firstClaims.sid);
      assert.deepEqual(await sessionIds(first), [firstClaims.sid, secondClaims.sid].sort());
      assert.deepEqual(await sessionIds(second), [firstClaims.sid, secondClaims.sid].sort());
      const limited = await must(first, "listSessions", { limit: 1, offset: 1 });
      assert.equal(limited.sessions.length, 1);
      assert.equal(limited.total, 2);
      assert.equal(limited.limit, 1);
      assert.equal(limited.offset, 1);
    });

    it('revokeSessions("others") ends the second session and keeps this one', async () => {
      await must(first, "revokeSessions", "others");
      assert.deepEqual(await sessionIds(first), [firstClaims.sid]);
      // The second browser can no longer refresh.
      await must(second, "invalidateCache");
      const answer = await call(second, "refresh");
      assert.equal(answer.ok, false, "the revoked session still refreshes");
      assert.equal(answer.name, "UnauthorizedError", `${answer.name}: ${answer.message}`);
      // The first still can.
      await must(first, "invalidateCache");
      const refreshed = await must(first, "refresh");
      assert.equal(refreshed.user.profile.sid, firstClaims.sid);
    });

    it("logout() revokes the session and clears the cookie", async () => {
      await must(first, "logout");
      const revokes = await exchangesTo(first, "POST", "/revoke");
      assert.ok(revokes.at(-1).status < 300, formatExchanges(revokes));
      assert.equal(await must(first, "getProfile"), undefined);
      const answer = await call(first, "refresh");
      assert.equal(answer.ok, false, "refresh still works after logout");
      assert.equal(answer.name, "UnauthorizedError", `${answer.name}: ${answer.message}`);
    });
  });

  describe("sign-up with e-mail and password, then password login", () => {
    const email = `pw-${Date.now()}@example.com`;
    const password = "Correct-horse-7-battery";
    let browserPage;
    let userId;

    it("validatePassword() reads /password/compliancy", async () => {
      browserPage = await openPage();
      const rules = await must(browserPage, "getPasswordCompliancy");
      for (const field of ["min_length", "max_length", "uppercase", "lowercase", "numbers", "symbols"]) {
        assert.equal(typeof rules[field], "number", field);
      }
      assert.equal((await must(browserPage, "validatePassword", password)).valid, true);
      assert.equal((await must(browserPage, "validatePassword", "x")).valid, false);
    });

    it("signUpWithEmail() proves the address first: no session until checkOTP()", async () => {
      const seen = readOutbox(sessile.outbox).length;
      await must(browserPage, "signUpWithEmail", { identifier: email, password });
      assert.equal(await must(browserPage, "getProfile"), undefined, "no session before the code");
      const finalizes = await exchangesTo(browserPage, "POST", "/login/finalize");
      assert.equal(finalizes.at(-1).status, 200, formatExchanges(finalizes));
      const code = await waitForCode(sessile.outbox, email, seen);
      const answer = await must(browserPage, "checkOTP", code);
      const profile = await claims(browserPage, answer.access_token);
      assert.match(profile.sub, /^usr_/);
      userId = profile.sub;
      assert.deepEqual(await sessionIds(browserPage), [profile.sid]);
      await must(browserPage, "invalidateCache");
      const refreshed = await must(browserPage, "refresh");
      assert.equal(refreshed.user.profile.sid, profile.sid);
      await must(browserPage, "logout");
      assert.equal(await must(browserPage, "getProfile"), undefined);
    });

    it("signing up again with the same e-mail looks the same, and the owner gets a notice", async () => {
      const seen = readOutbox(sessile.outbox).length;
      await must(browserPage, "signUpWithEmail", { identifier: email, password: `${password}-other` });
      assert.equal(await must(browserPage, "getProfile"), undefined);
      const deadline = Date.now() + 10_000;
      let notice;
      while (!notice && Date.now() < deadline) {
        notice = readOutbox(sessile.outbox).slice(seen).find((line) => line.to === email);
        if (!notice) await new Promise((ok) => setTimeout(ok, 100));
      }
      assert.ok(notice, "the owner is told");
      assert.equal(notice.code, "", "a notice carries no code");
      const guess = await call(browserPage, "checkOTP", "000000");
      assert.equal(guess.ok, false);
      assert.equal(guess.name, "BadRequestError", `${guess.name}: ${guess.message}`);
    });

    it("a wrong password is an UnauthorizedError, as Prelude's password guide catches it", async () => {
      const answer = await call(browserPage, "loginWithPassword", { identifier: email, password: `${password}-no` });
      assert.equal(answer.ok, false);
      assert.equal(answer.name, "UnauthorizedError", `${answer.name}: ${answer.message}`);
    });

    it("loginWithPassword() logs in; refresh, listSessions and logout work", async () => {
      await must(browserPage, "loginWithPassword", { identifier: email, password });
      const profile = await must(browserPage, "getProfile");
      assert.equal(profile.sub, userId);
      await must(browserPage, "invalidateCache");
      const refreshed = await must(browserPage, "refresh");
      assert.equal(refreshed.user.profile.sid, profile.sid);
      assert.deepEqual(await sessionIds(browserPage), [profile.sid]);
      await must(browserPage, "logout");
      assert.equal(await must(browserPage, "getProfile"), undefined);
    });
  });

  it("the SDK started its core worker from core-worker.js beside the bundle", () => {
    assert.ok(pageServer.served.includes("/core-worker.js"), `served: ${pageServer.served.join(", ")}`);
  });
});
