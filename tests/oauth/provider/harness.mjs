// Start the test OpenID Connect provider (server.mjs, panva's oidc-provider) from a node
// test: `const provider = await startProvider({redirectUris, accounts}); … provider.stop()`.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

export const CLIENT_ID = "sessile-app";
export const CLIENT_SECRET = "provider-side-secret-for-tests";

async function freePort() {
  const server = createServer();
  await new Promise((ok, fail) => server.once("error", fail).listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

/**
 * @param {{redirectUris: string[], accounts: Record<string, {password: string, sub: string, claims: object}>}} options
 * @returns {Promise<{issuer: string, env: (name: string) => Record<string, string>, stop: () => Promise<void>}>}
 */
export async function startProvider({ redirectUris, accounts }) {
  const port = await freePort();
  const client = {
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: redirectUris,
    grant_types: ["authorization_code"],
    response_types: ["code"],
  };
  const child = spawn(process.execPath, [join(here, "server.mjs")], {
    env: { ...process.env, PORT: String(port), CLIENTS: JSON.stringify([client]), ACCOUNTS: JSON.stringify(accounts) },
    stdio: ["ignore", "pipe", "ignore"],
  });
  const orphan = () => child.kill("SIGKILL");
  process.once("exit", orphan);
  const exited = new Promise((ok) => child.once("exit", ok));
  const issuer = await new Promise((ok, fail) => {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      out += chunk;
      const line = out.split("\n")[0];
      if (out.includes("\n")) ok(JSON.parse(line).issuer);
    });
    child.once("exit", (code) => fail(new Error(`oidc-provider exited (${code}) before listening`)));
  });
  return {
    issuer,
    /** sessile's settings pointing its provider `name` at this issuer. */
    env: (name) => {
      const prefix = `SESSILE_OAUTH_${name.toUpperCase()}_`;
      return { [`${prefix}CLIENT_ID`]: CLIENT_ID, [`${prefix}CLIENT_SECRET`]: CLIENT_SECRET, [`${prefix}ISSUER`]: issuer };
    },
    stop: async () => {
      process.removeListener("exit", orphan);
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Fill in the provider's sign-in page, then allow on its consent page, in a Playwright page. */
export async function signInAtProvider(page, issuer, { login, password }) {
  await page.waitForURL((url) => url.href.startsWith(issuer), { timeout: 10_000 });
  await page.waitForSelector('input[name="login"]', { timeout: 10_000 });
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForLoadState("load"), page.click('button[type="submit"]')]);
  await page.waitForSelector('form[action$="/confirm"] button', { timeout: 10_000 });
  await page.click('form[action$="/confirm"] button');
}
