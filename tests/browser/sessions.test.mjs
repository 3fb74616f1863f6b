// Two browsers (contexts) of one user: each sees the other in the sessions
// table, and each revoke target has its effect on the other.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  loginByOtp,
  needsChromium,
  newPage,
  screenshot,
  shownClaims,
  withServerAndBrowser,
} from "./harness.mjs";

const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 " +
  "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

describe("sessions", needsChromium(), () => {
  let server;
  let browser;
  withServerAndBrowser({}, (started) => ({ server, browser } = started));

  /** Two logged-in browsers of one user, `a` on its Sessions page. */
  async function twoBrowsers(email) {
    const a = await newPage(browser, server);
    const b = await newPage(browser, server);
    const sidA = (await loginByOtp(a, server, email)).sid;
    const sidB = (await loginByOtp(b, server, email)).sid;
    await a.getByTestId("nav-sessions").click();
    await a.locator(`[data-session-id="${sidB}"]`).waitFor();
    return { a, b, sidA, sidB };
  }

  /** `page`'s session is over: its refresh fails and it is back on the login page, reload or not. */
  async function assertSignedOut(page) {
    await page.getByTestId("nav-token").click();
    await page.getByTestId("refresh").click();
    await page.getByTestId("otp-form").waitFor();
    assert.match(await page.getByTestId("notice").textContent(), /session has ended/);
    await page.reload();
    await page.getByTestId("otp-form").waitFor();
  }

  /** `page`'s session lives: a forced refresh gives it a new token. */
  async function assertSignedIn(page) {
    await page.getByTestId("nav-token").click();
    const before = await shownClaims(page);
    await page.getByTestId("refresh").click();
    await page.waitForFunction(
      (jti) => !document.querySelector("[data-testid=claims]").textContent.includes(jti),
      before.jti,
    );
    assert.equal((await shownClaims(page)).sid, before.sid);
  }

  async function rows(page) {
    return page
      .getByTestId("session-row")
      .evaluateAll((trs) => trs.map((tr) => tr.dataset.sessionId).sort());
  }

  test("two browsers see each other, with the device from the User-Agent", async () => {
    const { a, b, sidA, sidB } = await twoBrowsers("devices@example.com");
    // A phone too, for the table's sake.
    const phone = await browser.newContext({ baseURL: server.url, userAgent: IPHONE });
    await loginByOtp(await phone.newPage(), server, "devices@example.com");

    const listed = a.waitForResponse((r) => new URL(r.url()).pathname === "/v1/session/me/list");
    await a.reload();
    await a.getByTestId("session-row").nth(2).waitFor();
    const { sessions, total } = await (await listed).json();
    assert.equal(total, 3);
    const byId = new Map(sessions.map((s) => [s.id, s]));
    for (const sid of [sidA, sidB]) {
      const session = byId.get(sid);
      assert.equal(session.device_type, "desktop");
      assert.match(session.os_version, /Linux/);
      assert.ok(Date.parse(session.created_at) <= Date.parse(session.last_seen_at));
    }
    const iphone = sessions.find((s) => s.id !== sidA && s.id !== sidB);
    assert.equal(iphone.device_type, "mobile");
    assert.match(`${iphone.device_model} ${iphone.os_version}`, /iPhone|iOS/);

    const mine = a.locator("[data-testid=session-row][data-current=true]");
    assert.equal(await mine.getAttribute("data-session-id"), sidA);
    assert.match(await mine.getByTestId("session-device").textContent(), /desktop/);
    await screenshot(a, "06-sessions");

    // B sees A as well.
    await b.getByTestId("nav-sessions").click();
    await b.locator(`[data-session-id="${sidA}"]`).waitFor();
    await b.context().close();
    await a.context().close();
    await phone.close();
  });

  test("Revoke on a row ends that session only", async () => {
    const { a, b, sidA, sidB } = await twoBrowsers("row@example.com");
    await a.locator(`[data-session-id="${sidB}"]`).getByTestId("revoke-session").click();
    await a.locator(`[data-session-id="${sidB}"]`).waitFor({ state: "detached" });
    assert.deepEqual(await rows(a), [sidA]);
    await assertSignedOut(b);
    await assertSignedIn(a);
    await a.context().close();
    await b.context().close();
  });

  test("Revoke Others keeps this session and ends the other", async () => {
    const { a, b, sidA, sidB } = await twoBrowsers("others@example.com");
    await a.getByTestId("revoke-others").click();
    await a.locator(`[data-session-id="${sidB}"]`).waitFor({ state: "detached" });
    assert.deepEqual(await rows(a), [sidA]);
    await assertSignedOut(b);
    await assertSignedIn(a);
    await a.context().close();
    await b.context().close();
  });

  test("Revoke Mine ends this session and keeps the other", async () => {
    const { a, b, sidB } = await twoBrowsers("mine@example.com");
    await a.getByTestId("revoke-mine").click();
    await a.getByTestId("otp-form").waitFor();
    await a.reload();
    await a.getByTestId("otp-form").waitFor();
    await assertSignedIn(b);
    await b.getByTestId("nav-sessions").click();
    await b.locator(`[data-session-id="${sidB}"]`).waitFor();
    assert.deepEqual(await rows(b), [sidB]);
    await a.context().close();
    await b.context().close();
  });

  test("Revoke All ends both", async () => {
    const { a, b } = await twoBrowsers("all@example.com");
    await a.getByTestId("revoke-all").click();
    await a.getByTestId("otp-form").waitFor();
    await screenshot(a, "07-revoked");
    await a.reload();
    await a.getByTestId("otp-form").waitFor();
    await assertSignedOut(b);
    await a.context().close();
    await b.context().close();
  });
});
