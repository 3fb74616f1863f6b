// Social login through the demo app and sessile's own SDK (sdk/js) in Chromium, against a
// real OpenID Connect provider on loopback (panva's oidc-provider) standing in for Google.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { signInAtProvider, startProvider } from "../oauth/provider/harness.mjs";
import { codeFor, freePort, launchChromium, needsChromium, newPage, screenshot, shownClaims, startServer } from "./harness.mjs";

const ACCOUNTS = {
  ada: { password: "ada's password", sub: "demo-ada", claims: { email: "ada.demo@example.com", email_verified: true, name: "Ada" } },
  bob: { password: "bob's password", sub: "demo-bob", claims: { email: "bob.demo@example.com", email_verified: false } },
};

describe("social login in the demo", needsChromium(), () => {
  let server;
  let provider;
  let browser;

  before(async () => {
    const port = await freePort();
    provider = await startProvider({
      redirectUris: [`http://127.0.0.1:${port}/v1/session/login/oauth/google/callback`],
      accounts: ACCOUNTS,
    });
    server = await startServer(provider.env("google"), { port });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await provider?.stop();
  });

  test("Continue with Google: the provider's page, back, logged in; again, the same user", async () => {
    const page = await newPage(browser, server);
    await page.goto("/");
    await page.getByTestId("oauth-google").waitFor();
    await screenshot(page, "20-login-oauth-button");
    await page.getByTestId("oauth-google").click();
    await signInAtProvider(page, provider.issuer, { login: "ada", password: ACCOUNTS.ada.password });
    const claims = await shownClaims(page);
    assert.match(claims.sub, /^usr_/);
    assert.equal(new URL(page.url()).search, "", "the challenge token is gone from the address bar");
    await page.getByTestId("nav-sessions").click();
    await page.getByTestId("session-row").first().waitFor();
    assert.equal(await page.getByTestId("session-row").count(), 1);

    const second = await newPage(browser, server);
    await second.goto("/");
    await second.getByTestId("oauth-google").click();
    // A fresh browser profile: the provider asks to sign in again, and it is the same user.
    await signInAtProvider(second, provider.issuer, { login: "ada", password: ACCOUNTS.ada.password });
    assert.equal((await shownClaims(second)).sub, claims.sub);
  });

  test("an unverified provider e-mail: the code sent to it, then logged in", async () => {
    const page = await newPage(browser, server);
    await page.goto("/");
    await page.getByTestId("oauth-google").click();
    await signInAtProvider(page, provider.issuer, { login: "bob", password: ACCOUNTS.bob.password });
    await page.getByTestId("oauth-code-form").waitFor();
    await screenshot(page, "21-oauth-code");
    await page.getByTestId("code").fill(await codeFor(server, "bob.demo@example.com"));
    await page.getByTestId("verify").click();
    assert.match((await shownClaims(page)).sub, /^usr_/);
  });
});
