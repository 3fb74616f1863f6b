// A real OpenID Connect provider (panva's oidc-provider) on loopback, for sessile's tests.
//
// Usage: node server.mjs  (settings in the environment)
//   PORT             port to listen on (127.0.0.1)
//   CLIENTS          JSON list of oidc-provider client metadata
//   ACCOUNTS         JSON object: login -> {password, sub, claims}
// It prints one JSON line {"issuer": ...} once it listens. Its login and consent pages are
// plain HTML forms, which the tests fill in as a person would.
import { generateKeyPairSync } from "node:crypto";
import http from "node:http";
import { URLSearchParams } from "node:url";

import Provider from "oidc-provider";

const port = Number(process.env.PORT || 0);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.CLIENTS || "[]");
const accounts = JSON.parse(process.env.ACCOUNTS || "{}");

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), use: "sig", kid: "test-rs256" };

const bySub = new Map(Object.values(accounts).map((a) => [a.sub, a]));

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: ["sessile-test-provider-cookie-key"] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "given_name", "family_name", "picture"],
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, sub) {
    const account = bySub.get(sub);
    if (!account) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
  },
});

const escape = (s) =>
  String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, title, body) {
  res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
  res.end(`<!doctype html><html><head><title>${escape(title)}</title></head><body>${body}</body></html>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error("interaction mismatch");
  const { prompt, params } = details;
  if (req.method === "GET" && prompt.name === "login") {
    return page(
      res,
      "Sign in",
      `<h1>Sign in to the test provider</h1>
       <form method="post" action="/interaction/${uid}/login">
         <label>Login <input name="login" autocomplete="username"></label>
         <label>Password <input name="password" type="password"></label>
         <button type="submit">Sign in</button>
       </form>`,
    );
  }
  if (req.method === "GET" && prompt.name === "consent") {
    return page(
      res,
      "Consent",
      `<h1>Share your profile with ${escape(params.client_id)}?</h1>
       <form method="post" action="/interaction/${uid}/confirm">
         <button type="submit">Allow</button>
       </form>`,
    );
  }
  if (req.method === "POST" && action === "login") {
    const form = await readForm(req);
    const account = accounts[form.login];
    if (!account || account.password !== form.password) {
      return page(res, "Sign in", `<p id="error">Wrong login or password.</p>`);
    }
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.sub } },
      { mergeWithLastSubmission: false },
    );
  }
  if (req.method === "POST" && action === "confirm") {
    await readForm(req);
    const grant = new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (req.method === "POST" && action === "abort") {
    await readForm(req);
    return provider.interactionFinished(
      req,
      res,
      { error: "access_denied", error_description: "The person refused to share their profile." },
      { mergeWithLastSubmission: false },
    );
  }
  res.writeHead(400);
  res.end("unexpected interaction step");
}

const handle = provider.callback();
const server = http.createServer(async (req, res) => {
  const match = /^\/interaction\/([^/?]+)(?:\/(login|confirm|abort))?/.exec(req.url);
  if (!match) return handle(req, res);
  try {
    await interaction(req, res, match[1], match[2]);
  } catch (err) {
    res.writeHead(500, { "Content-Type": "text/plain" });
    res.end(String(err));
  }
});
server.listen(port, "127.0.0.1", () => {
  console.log(JSON.stringify({ issuer }));
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
