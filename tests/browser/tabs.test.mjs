// Tabs of one browser share one refresh: the SDK's Web Lock lets one tab call
// the server while the others wait, and its BroadcastChannel hands them the token.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import {
  loginByOtp,
  needsChromium,
  newPage,
  shownClaims,
  withServerAndBrowser,
} from "./harness.mjs";

const TABS = 5;

describe("tabs", needsChromium(), () => {
  let server;
  let browser;
  withServerAndBrowser({}, (started) => ({ server, browser } = started));

  test(`${TABS} tabs clicking Refresh Token at once make one refresh call`, async () => {
    const first = await newPage(browser, server);
    const context = first.context();
    const sid = (await loginByOtp(first, server, "tabs@example.com")).sid;
    const pages = [first];
    while (pages.length < TABS) {
      const page = await context.newPage();
      await page.goto("/"); // the session is shared: every tab opens logged in
      pages.push(page);
    }
    const shown = await Promise.all(pages.map(shownClaims));
    assert.deepEqual(new Set(shown.map((c) => c.sid)), new Set([sid]));

    // Count refresh calls two ways: what the pages send, and what reaches the
    // server. The server's answer is held back a moment, so that "at once" means
    // every tab has asked before any answer arrives, however slow this machine is.
    let sent = 0;
    let routed = 0;
    context.on("request", (request) => {
      if (new URL(request.url()).pathname === "/v1/session/refresh") sent++;
    });
    await context.route("**/v1/session/refresh", async (route) => {
      routed++;
      await sleep(300);
      await route.continue();
    });

    // Every tab clicks at the same instant of the one clock they share.
    const at = Date.now() + 500;
    await Promise.all(
      pages.map((page) =>
        page.evaluate((at) => {
          setTimeout(
            () => document.querySelector("[data-testid=refresh]").click(),
            at - Date.now(),
          );
        }, at),
      ),
    );
    const after = await Promise.all(
      pages.map(async (page, i) => {
        await page.waitForFunction(
          (jti) => !document.querySelector("[data-testid=claims]").textContent.includes(jti),
          shown[i].jti,
        );
        return shownClaims(page);
      }),
    );
    assert.equal(routed, 1, "refresh calls that reached the server");
    assert.equal(sent, 1, "refresh calls the pages sent");
    assert.equal(new Set(after.map((c) => c.jti)).size, 1, "every tab shows the one new token");
    assert.equal(after[0].sid, sid);
    assert.ok(after[0].iat >= Math.max(...shown.map((c) => c.iat)));

    // The token is good in every tab: each lists the sessions with it, and none
    // needed another refresh (a rejected token would have caused one).
    await Promise.all(
      pages.map(async (page) => {
        await page.getByTestId("nav-sessions").click();
        await page.locator(`[data-testid=session-row][data-session-id="${sid}"]`).waitFor();
      }),
    );
    assert.equal(sent, 1);
    await context.close();
  });
});
