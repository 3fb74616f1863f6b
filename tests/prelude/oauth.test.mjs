// Prelude's own web SDK 0.6.0 in headless Chromium: "Continue with Google", with sessile's
// `google` pointed at a real OpenID Connect provider on loopback (panva's oidc-provider)
// by the issuer override. loginWithOAuth goes to the provider's page, the test signs in
// there, the browser comes back to the app, and finalizeOAuthLogin, refresh and
// listSessions work as for any other login.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { signInAtProvider, startProvider } from "../oauth/provider/harness.mjs";
import { startStack, suiteOptions } from "./harness.mjs";

const ADA = { login: "ada", password: "ada's password" };
const ACCOUNTS = {
  ada: {
    password: ADA.password,
    sub: "prelude-ada",
    claims: { email: "ada.prelude@example.com", email_verified: true, name: "Ada Lovelace" },
  },
};

describe("Prelude web SDK 0.6.0: social login against sessile", suiteOptions(90_000), () => {
  let stack;
  let sessile;
  let pageServer;
  let provider;
  let browser;
  let appPage;

  before(async () => {
    stack = await startStack({
      beforeSessile: async ({ apiPort, pageServer: served, stack: started }) => {
        provider = await startProvider({
          redirectUris: [`https://localhost:${apiPort}/v1/session/login/oauth/google/callback`],
          accounts: ACCOUNTS,
        });
        started.stops.push(() => provider.stop());
        const domain = `localhost:${apiPort}`;
        // The app's callback page is the test page itself, named exactly in the allow-list.
        appPage = `${served.origin}/?domain=${encodeURIComponent(domain)}`;
        return { ...provider.env("google"), SESSILE_OAUTH_REDIRECT_URIS: appPage };
      },
    });
    ({ sessile, pageServer, browser } = stack);
  }, { timeout: 60_000 });

  after(() => stack?.stop());

  const call = (page, method, ...args) =>
    page.evaluate(([m, a]) => window.prelude.call(m, ...a), [method, args]);

  it("loginWithOAuth → the provider's page → back → finalizeOAuthLogin, refresh, listSessions", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (error) => errors.push(error.message));
    try {
      await page.goto(appPage);
      await page.waitForSelector("body[data-ready=true]", { state: "attached" });
      // loginWithOAuth sends the browser away, so its promise never settles here.
      page
        .evaluate((uri) => window.prelude.call("loginWithOAuth", { provider: "google", redirectURI: uri }), appPage)
        .catch(() => {});
      await signInAtProvider(page, provider.issuer, ADA);
      await page.waitForURL((url) => url.href.startsWith(pageServer.origin) && url.searchParams.has("challenge_token"), {
        timeout: 15_000,
      });
      await page.waitForSelector("body[data-ready=true]", { state: "attached" });

      const params = await page.evaluate(() => Object.fromEntries(new URLSearchParams(location.search)));
      assert.equal(params.status, undefined);
      assert.deepEqual(await call(page, "validateOAuthCallback", params), { ok: true, value: true });
      const finalized = await call(page, "finalizeOAuthLogin", params.challenge_token);
      assert.equal(finalized.ok, true, JSON.stringify(finalized));
      assert.equal(await page.evaluate(() => localStorage.getItem("prld.oauth.code_verifier")), null);

      const refreshed = await call(page, "refresh");
      assert.equal(refreshed.ok, true, JSON.stringify(refreshed));
      const profile = refreshed.value.user.profile;
      assert.match(profile.sub, /^usr_/);
      assert.ok(profile.sid);
      const listed = await call(page, "listSessions");
      assert.equal(listed.ok, true, JSON.stringify(listed));
      assert.equal(listed.value.total, 1);
      assert.equal(listed.value.sessions[0].id, profile.sid);

      // The same challenge token a second time: spent, as Prelude documents (token_reused).
      await page.evaluate(() => localStorage.setItem("prld.oauth.code_verifier", "x".repeat(43)));
      const again = await call(page, "finalizeOAuthLogin", params.challenge_token);
      assert.equal(again.ok, false);
      assert.equal(again.name, "TokenReusedError");
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it("maps sessile's errors: a provider not configured, a redirect URI off the list", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    try {
      await page.goto(appPage);
      await page.waitForSelector("body[data-ready=true]", { state: "attached" });
      const okta = await call(page, "initiateOAuthLogin", { provider: "okta", redirectURI: appPage });
      assert.equal(okta.ok, false);
      assert.equal(okta.name, "BadRequestError");
      assert.match(okta.message, /not configured/);
      const elsewhere = await call(page, "initiateOAuthLogin", { provider: "google", redirectURI: "https://evil.example/" });
      assert.equal(elsewhere.ok, false);
      assert.equal(elsewhere.name, "BadRequestError");
      assert.match(elsewhere.message, /redirect_uri/);
      // The provider's refusal, as the app's page receives it.
      const refused = await call(page, "validateOAuthCallback", { error: "access_denied", error_description: "refused" });
      assert.equal(refused.ok, false);
      assert.equal(refused.message, "refused");
    } finally {
      await context.close();
    }
  });
});
