// An independent verifier for the Python tests: panva's `jose`.
// Usage: node verify-jose.mjs <JWKS URL> <issuer> <audience>, with the access token on stdin.
// Prints {ok: true, header, payload} or {ok: false, code} as JSON; `code` is jose's error code.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [jwksUrl, issuer, audience] = process.argv.slice(2);
let token = "";
for await (const chunk of process.stdin) token += chunk;

const jwks = createRemoteJWKSet(new URL(jwksUrl));
try {
  const { payload, protectedHeader } = await jwtVerify(token.trim(), jwks, {
    issuer,
    audience,
    algorithms: ["ES256"],
    typ: "at+jwt",
    requiredClaims: ["sub", "sid", "exp", "iat", "jti"],
  });
  process.stdout.write(JSON.stringify({ ok: true, header: protectedHeader, payload }));
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, code: error.code ?? String(error) }));
}
