// Step-up through the demo app (sessile's own SDK), as a person clicks it. "Change
// password": requestStepUp for prld:pwd:write, the e-mail code (a wrong one first), after
// which the SDK refreshes with the completed challenge by itself; resetPassword saves the
// new password and spends the grant, the other session is found ended, and the new password
// logs in. "Identifiers": the register step-up adds a phone, then an e-mail address, each
// proven by a code sent to it; the old address, the account's first, is removed once a
// code sent to it proves it again (the grant that added the new one is not enough).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  codeFor,
  loginByOtp,
  needsChromium,
  newPage,
  outbox,
  screenshot,
  shownClaims,
  withServerAndBrowser,
} from "./harness.mjs";

describe("step-up in the demo", needsChromium(), () => {
  let server;
  let browser;
  withServerAndBrowser({}, (started) => ({ server, browser } = started));

  /** The step-up calls the page makes: path and JSON body, in order. */
  function recordStepUpCalls(page) {
    const calls = [];
    page.on("request", (request) => {
      const path = new URL(request.url()).pathname.replace("/v1/session", "");
      if (!/^\/(stepup|otp|refresh)/.test(path)) return;
      const body = request.postData();
      calls.push({ path, body: body ? JSON.parse(body) : undefined });
    });
    return calls;
  }

  /** The number of messages sent to `to` so far. */
  async function sentTo(to) {
    return (await outbox(server)).filter((m) => m.to === to).length;
  }

  /** Type the code the step sent to `to` (the `seen`+1-th message) and verify it. */
  async function proveCode(page, to, seen) {
    await page.getByTestId("stepup-secret").fill(await codeFor(server, to, { seen }));
    await page.getByTestId("stepup-verify").click();
  }

  async function failWithPage(page, error) {
    throw new Error(
      `${error.message}\n${await page.locator("main").innerText()}\n${server.log().slice(-2000)}`,
    );
  }

  test("change password: a code, the grant, the new password; the other session ends", async () => {
    const email = "grace@example.com";
    const other = await newPage(browser, server);
    const otherClaims = await loginByOtp(other, server, email);
    const page = await newPage(browser, server);
    const claims = await loginByOtp(page, server, email);
    assert.equal(claims.scope, "session");
    const calls = recordStepUpCalls(page);

    await page.getByTestId("nav-password").click();
    const seen = await sentTo(email);
    await page.getByTestId("stepup-start").click();
    assert.equal(await page.getByTestId("stepup-step").textContent(), "verify_email");
    const code = await codeFor(server, email, { seen });

    // A wrong code is refused, and the same challenge takes the right one.
    await page.getByTestId("stepup-secret").fill(code === "000000" ? "111111" : "000000");
    await page.getByTestId("stepup-verify").click();
    assert.match(await page.getByTestId("stepup-error").textContent(), /bad_check_code/);
    await page.getByTestId("stepup-secret").fill(code);
    await page.getByTestId("stepup-verify").click();
    await page.getByTestId("new-password-form").waitFor().catch((e) => failWithPage(page, e));

    // requestStepUp, /otp, /otp/check twice, then the refresh with the completed token.
    const request = calls.find((c) => c.path === "/stepup/request");
    assert.deepEqual(request.body, { scope: "prld:pwd:write" });
    const checks = calls.filter((c) => c.path === "/otp/check");
    assert.equal(checks.length, 2);
    assert.equal(checks[1].body.code, code);
    const redeem = calls.filter((c) => c.path === "/refresh" && c.body?.step_up_token);
    assert.equal(redeem.length, 1);
    assert.equal(calls.filter((c) => c.path === "/stepup/continue").length, 0);

    await screenshot(page, "10-change-password");
    await page.getByTestId("new-password").fill("A fresh passphrase 7");
    await page.getByTestId("save-password").click();
    await page.getByTestId("password-done").waitFor().catch((e) => failWithPage(page, e));

    // The change spent the grant: after a reload this session's token is back to "session".
    await page.goto("/");
    const after = await shownClaims(page);
    assert.equal(after.scope, "session");
    assert.equal(after.sid, claims.sid);

    // The other browser is logged out on its next refresh.
    await other.reload();
    await other.getByTestId("otp-form").waitFor();
    assert.notEqual(otherClaims.sid, claims.sid);

    const fresh = await newPage(browser, server);
    await fresh.goto("/");
    await fresh.getByTestId("method-password").click();
    await fresh.getByTestId("email").fill(email);
    await fresh.getByTestId("password").fill("A fresh passphrase 7");
    await fresh.getByTestId("password-submit").click();
    assert.equal((await shownClaims(fresh)).sub, claims.sub);
    for (const p of [page, other, fresh]) await p.context().close();
  });

  test("identifiers: a phone and an e-mail address added by their own codes, the old address removed by its own", async () => {
    const email = "hopper@example.com";
    const phone = "+33698765432";
    const second = "amazing.grace@example.com";
    const page = await newPage(browser, server);
    const claims = await loginByOtp(page, server, email);
    const calls = recordStepUpCalls(page);
    await page.getByTestId("nav-identifiers").click();
    const values = () => page.getByTestId("identifier-value").allTextContents();
    await page.getByTestId("identifier-row").first().waitFor();
    assert.deepEqual(await values(), [email]);

    // A phone: the code goes to the phone, and proving it adds it.
    await page.getByTestId("add-type-phone").check();
    await page.getByTestId("add-identifier").fill("+33 6 98 76 54 32");
    let seen = await sentTo(phone);
    await page.getByTestId("add-submit").click();
    assert.equal(await page.getByTestId("stepup-step").textContent(), "verify_sms");
    await screenshot(page, "11-add-phone");
    await proveCode(page, phone, seen);
    assert.match(await page.getByTestId("identifier-added").textContent(), /\+33698765432/);
    assert.deepEqual(
      calls.find((c) => c.path === "/stepup/request").body,
      { scope: "prld:phone:register", metadata: { identifier: "+33 6 98 76 54 32" } },
    );
    await page.getByText(phone, { exact: true }).waitFor();
    assert.deepEqual(await values(), [email, phone]);

    // The phone now logs in to the same account.
    const byPhone = await newPage(browser, server);
    await byPhone.goto("/");
    await byPhone.getByTestId("type-phone").check();
    await byPhone.getByTestId("identifier").fill(phone);
    seen = await sentTo(phone);
    await byPhone.getByTestId("send-code").click();
    await byPhone.getByTestId("code").fill(await codeFor(server, phone, { seen }));
    await byPhone.getByTestId("verify").click();
    assert.equal((await shownClaims(byPhone)).sub, claims.sub);

    // An e-mail address the same way; its grant then lets this session remove the old one.
    await page.getByTestId("add-type-email").check();
    await page.getByTestId("add-identifier").fill(second);
    seen = await sentTo(second);
    await page.getByTestId("add-submit").click();
    assert.equal(await page.getByTestId("stepup-step").textContent(), "verify_email");
    await proveCode(page, second, seen);
    assert.match(await page.getByTestId("identifier-added").textContent(), /amazing\.grace@/);
    await page.getByText(second, { exact: true }).waitFor();
    assert.deepEqual(await values(), [second, email, phone]);
    assert.equal(await page.getByTestId(`remove:${phone}`).count(), 0);
    // The old address is the account's first: the server wants a code sent to it first.
    seen = await sentTo(email);
    await page.getByTestId(`remove:${email}`).click();
    assert.equal(await page.getByTestId("stepup-step").textContent(), "verify_email");
    await proveCode(page, email, seen);
    await page.getByText(email, { exact: true }).waitFor({ state: "detached" });
    assert.deepEqual(await values(), [second, phone]);
    const removals = calls.filter((c) => c.path === "/stepup/request").at(-1);
    assert.deepEqual(removals.body, { scope: "prld:email:register", metadata: { identifier: email } });
    // Each change was told to the account's proven addresses, with a link to end every
    // session: the phone and the first address heard of the second address.
    const told = (await outbox(server)).filter((m) => m.code === "" && m.text.includes(second));
    assert.ok(told.some((m) => m.to === email && m.text.includes("/v1/session/end-sessions?token=")));
    assert.ok(told.some((m) => m.to === phone));

    // Each grant was redeemed by the SDK's own refresh; the session keeps the last one a
    // while, so a reload's plain refresh still carries it.
    assert.equal(calls.filter((c) => c.path === "/refresh" && c.body?.step_up_token).length, 3);
    await page.goto("/");
    assert.equal((await shownClaims(page)).scope, "session prld:email:register");
    for (const p of [page, byPhone]) await p.context().close();
  });
});
