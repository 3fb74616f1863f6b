// Step-up through the demo app (sessile's own SDK): "Change password" runs the e-mail
// code step and continues, the SDK refreshes with the grant, the new password is saved,
// the other session is found ended, and the new password logs in. "Add phone" does the
// same for prld:phone:register and proves the phone by its own code.

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

  /** Run the demo's step-up box to the end: one e-mail code step. */
  async function stepUp(page, email) {
    await page.getByTestId("stepup-start").click();
    assert.equal(
      await page.getByTestId("stepup-step").textContent(),
      "email_otp",
    );
    const seen = (await outbox(server)).filter((m) => m.to === email).length;
    await page.getByTestId("stepup-send").click();
    await page
      .getByTestId("stepup-secret")
      .fill(await codeFor(server, email, { seen }));
    await page.getByTestId("stepup-verify").click();
  }

  test("change password: step-up, new password, the other session ends, the password logs in", async () => {
    const email = "grace@example.com";
    const other = await newPage(browser, server);
    const otherClaims = await loginByOtp(other, server, email);
    const page = await newPage(browser, server);
    const claims = await loginByOtp(page, server, email);
    assert.equal(claims.scope, "session");

    await page.getByTestId("nav-password").click();
    await stepUp(page, email);
    await page
      .getByTestId("new-password-form")
      .waitFor()
      .catch(async (error) => {
        throw new Error(
          `${error.message}\n${await page.locator("main").innerText()}\n${server.log().slice(-2000)}`,
        );
      });
    await screenshot(page, "10-change-password");
    await page.getByTestId("new-password").fill("A fresh passphrase 7");
    await page.getByTestId("save-password").click();
    assert.match(
      await page.getByTestId("password-done").textContent(),
      /1 other session/,
    );

    // After a reload (a plain refresh), this session's token still carries the grant.
    await page.goto("/");
    const granted = await shownClaims(page);
    assert.deepEqual(granted.scope.split(" "), ["session", "prld:pwd:write"]);
    assert.equal(granted.sid, claims.sid);

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

  test("add phone: step-up, then the phone's own code", async () => {
    const email = "hopper@example.com";
    const page = await newPage(browser, server);
    await loginByOtp(page, server, email);
    await page.getByTestId("nav-phone").click();
    await stepUp(page, email);
    await page.getByTestId("phone").fill("+33 6 98 76 54 32");
    await page.getByTestId("phone-send").click();
    await page
      .getByTestId("phone-code")
      .fill(await codeFor(server, "+33698765432"));
    await screenshot(page, "11-add-phone");
    await page.getByTestId("phone-verify").click();
    assert.match(
      await page.getByTestId("phone-done").textContent(),
      /\+33698765432/,
    );

    // The phone now logs in to the same account.
    const byPhone = await newPage(browser, server);
    await byPhone.goto("/");
    await byPhone.getByTestId("type-phone").check();
    await byPhone.getByTestId("identifier").fill("+33698765432");
    const seen = (await outbox(server)).filter(
      (m) => m.to === "+33698765432",
    ).length;
    await byPhone.getByTestId("send-code").click();
    await byPhone
      .getByTestId("code")
      .fill(await codeFor(server, "+33698765432", { seen }));
    await byPhone.getByTestId("verify").click();
    await page.getByTestId("nav-token").click();
    assert.equal(
      (await shownClaims(byPhone)).sub,
      (await shownClaims(page)).sub,
    );
    for (const p of [page, byPhone]) await p.context().close();
  });
});
