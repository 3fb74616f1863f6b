// Logging in through the demo app, the token it shows, refresh, reload, the
// key's and the cookie's protections, and logout.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  codeFor,
  loginByOtp,
  needsChromium,
  newPage,
  screenshot,
  shownClaims,
  withServerAndBrowser,
} from "./harness.mjs";

describe("login and the token page", needsChromium(), () => {
  let server;
  let browser;
  // No resend cooldown, so the resend button can be tried at once; two uppercase
  // letters, so sign-up shows a rule being broken.
  const env = { SESSILE_OTP_RESEND_COOLDOWN: "0", SESSILE_PASSWORD_UPPERCASE: "2" };
  withServerAndBrowser(env, (started) => ({ server, browser } = started));

  test("OTP login by email, with resend and the development outbox's code", async () => {
    const page = await newPage(browser, server);
    await page.goto("/");
    await page.getByTestId("identifier").fill("Ada@Example.com");
    await screenshot(page, "01-login-otp");
    await page.getByTestId("send-code").click();
    await page.getByTestId("code-form").waitFor();

    // The box shows the outbox file and the code just sent to this address.
    const box = page.getByTestId("dev-outbox");
    assert.equal(await box.getByTestId("outbox-path").textContent(), server.outbox);
    const first = await codeFor(server, "ada@example.com");
    await assert.doesNotReject(
      box.getByText(first, { exact: true }).waitFor({ timeout: 5000 }),
      "the box shows the code",
    );

    await page.getByTestId("resend").click();
    await page.getByTestId("info").waitFor();
    const second = await codeFor(server, "ada@example.com", { notCode: first });
    await box.getByText(second, { exact: true }).waitFor({ timeout: 5000 });
    await screenshot(page, "02-login-otp-code");

    // The first code was replaced by the resend.
    await page.getByTestId("code").fill(first);
    await page.getByTestId("verify").click();
    assert.match(await page.getByTestId("error").textContent(), /bad_check_code/);

    await page.getByTestId("code").fill(await box.getByTestId("outbox-code").textContent());
    await page.getByTestId("verify").click();
    const claims = await shownClaims(page);
    assert.match(claims.sub, /^usr_/);
    assert.match(claims.sid, /^ses_/);
    await screenshot(page, "03-logged-in");
    await page.context().close();
  });

  test("OTP login by phone", async () => {
    const page = await newPage(browser, server);
    await page.goto("/");
    await page.getByTestId("type-phone").check();
    await page.getByTestId("identifier").fill("+33 6 12 34 56 78");
    await page.getByTestId("send-code").click();
    await page.getByTestId("code").fill(await codeFor(server, "+33612345678"));
    await page.getByTestId("verify").click();
    assert.match((await shownClaims(page)).sid, /^ses_/);
    await page.context().close();
  });

  test("password sign-up proves the address by code, then login from a fresh browser", async () => {
    const page = await newPage(browser, server);
    await page.goto("/");
    await page.getByTestId("method-password").click();
    await page.getByTestId("toggle-sign-up").click();
    await page.getByTestId("email").fill("grace@example.com");
    await page.getByTestId("password").fill("weak");
    await page.getByTestId("password-rules").waitFor();
    assert.match(await page.getByTestId("password-rules").textContent(), /8 characters/);
    await page.getByTestId("password").fill("Two Uppercase 1");
    await page.getByTestId("password-rules").waitFor({ state: "hidden" });
    await screenshot(page, "04-sign-up");
    await page.getByTestId("password-submit").click();
    // No account and no session yet: the code sent to the address comes first.
    await page.getByTestId("code-form").waitFor();
    assert.match(await page.getByTestId("code-form").textContent(), /grace@example\.com/);
    await page.getByTestId("code").fill(await codeFor(server, "grace@example.com"));
    await page.getByTestId("verify").click();
    const signedUp = await shownClaims(page);
    assert.match(signedUp.sub, /^usr_/);
    await page.context().close();

    const again = await newPage(browser, server);
    await again.goto("/");
    await again.getByTestId("method-password").click();
    await again.getByTestId("email").fill("grace@example.com");
    await again.getByTestId("password").fill("wrong password");
    await again.getByTestId("password-submit").click();
    assert.match(await again.getByTestId("error").textContent(), /unauthorized/);
    await again.getByTestId("password").fill("Two Uppercase 1");
    await screenshot(again, "05-login-password");
    await again.getByTestId("password-submit").click();
    const loggedIn = await shownClaims(again);
    assert.equal(loggedIn.sub, signedUp.sub);
    assert.notEqual(loggedIn.sid, signedUp.sid);
    await again.context().close();
  });

  test("Refresh Token shows a new token of the same session", async () => {
    const page = await newPage(browser, server);
    const before = await loginByOtp(page, server, "refresh@example.com");
    await page.getByTestId("refresh").click();
    await page.waitForFunction(
      (jti) => !document.querySelector("[data-testid=claims]").textContent.includes(jti),
      before.jti,
    );
    const after = await shownClaims(page);
    assert.notEqual(after.jti, before.jti);
    assert.ok(after.iat >= before.iat);
    assert.ok(after.exp >= before.exp);
    assert.equal(after.sid, before.sid);
    await page.context().close();
  });

  test("a reload keeps the session", async () => {
    const page = await newPage(browser, server);
    const before = await loginByOtp(page, server, "reload@example.com");
    await page.reload();
    const after = await shownClaims(page);
    assert.equal(after.sid, before.sid);
    assert.notEqual(after.jti, before.jti); // the memory cache went with the page: a new token
    await page.context().close();
  });

  test("the DPoP private key cannot be exported and the refresh cookie is HttpOnly", async () => {
    const page = await newPage(browser, server);
    await loginByOtp(page, server, "keys@example.com");
    const key = await page.evaluate(async () => {
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open("sessile");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const store = db.transaction("dpop_keys", "readonly").objectStore("dpop_keys");
      const pairs = await new Promise((resolve, reject) => {
        const request = store.getAll();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const { privateKey, publicKey } = pairs[0];
      let exported = "exported";
      try {
        await crypto.subtle.exportKey("jwk", privateKey);
      } catch (error) {
        exported = error.name;
      }
      return {
        count: pairs.length,
        extractable: privateKey.extractable,
        algorithm: privateKey.algorithm,
        exported,
        publicExportable: (await crypto.subtle.exportKey("jwk", publicKey)).kty,
        cookie: document.cookie,
      };
    });
    assert.equal(key.count, 1);
    assert.equal(key.extractable, false);
    assert.deepEqual(key.algorithm, { name: "ECDSA", namedCurve: "P-256" });
    assert.equal(key.exported, "InvalidAccessError");
    assert.equal(key.publicExportable, "EC");
    assert.ok(!key.cookie.includes("sessile_refresh"), `document.cookie: ${key.cookie}`);
    // …yet the browser holds it, HttpOnly.
    const cookies = await page.context().cookies();
    const refresh = cookies.find((c) => c.name === "sessile_refresh");
    assert.ok(refresh, "the refresh cookie is set");
    assert.equal(refresh.httpOnly, true);
    assert.equal(refresh.sameSite, "Strict");
    await page.context().close();
  });

  test("Log Out ends the session, here and after a reload", async () => {
    const page = await newPage(browser, server);
    await loginByOtp(page, server, "logout@example.com");
    await page.getByTestId("logout").click();
    await page.getByTestId("otp-form").waitFor();
    assert.equal(
      (await page.context().cookies()).find((c) => c.name === "sessile_refresh"),
      undefined,
    );
    await page.reload();
    await page.getByTestId("otp-form").waitFor();
    await page.context().close();
  });
});
