// The Node.js recipe of docs/backend.md ("Webhooks on Node.js"), run by
// tests/events/test_node_recipe.py against real deliveries: reads
// {body, headers, jwksUrl, secret} as JSON on stdin and prints the verified batch's event
// ids, or exits 1 with the reason.
import { constants, createHmac, createPublicKey, timingSafeEqual, verify } from "node:crypto";

const RSASSA_PSS = "rsassa-pss-sha256=";
const HMAC = "sha256=";
let jwks = { keys: [], fetchedAt: 0 };

// The RSA signing key `kid` names in the issuer's JWKS; the JWKS is fetched again when it
// lacks the kid (at most every 10 s) or is older than 5 minutes.
async function webhookKey(jwksUrl, kid) {
  const find = () =>
    jwks.keys.find((k) => k.kid === kid && k.kty === "RSA" && (k.alg ?? "PS256") === "PS256");
  const age = Date.now() - jwks.fetchedAt;
  if ((!find() && age > 10_000) || age > 300_000) {
    const response = await fetch(jwksUrl);
    if (response.ok) jwks = { keys: (await response.json()).keys ?? [], fetchedAt: Date.now() };
  }
  const jwk = find();
  return jwk && createPublicKey({ key: jwk, format: "jwk" });
}

// headers: Node's lower-cased request headers. jwksUrl for rsassa-pss-sha256 endpoints,
// secret for hmac-sha256 ones.
export async function verifyWebhook(rawBody, headers, { jwksUrl, secret, toleranceSeconds = 300 }) {
  const signature = headers["x-webhook-signature"] ?? "";
  if (signature.startsWith(RSASSA_PSS) && jwksUrl) {
    const key = await webhookKey(jwksUrl, headers["x-webhook-signature-key-id"]);
    const pss = {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_AUTO, // sessile signs with 32, PS256's length
    };
    const given = Buffer.from(signature.slice(RSASSA_PSS.length), "base64url");
    if (!key || !verify("sha256", rawBody, pss, given)) throw new Error("bad signature");
  } else if (signature.startsWith(HMAC) && secret) {
    const expected = Buffer.from(
      HMAC + createHmac("sha256", secret).update(rawBody).digest("base64"),
    );
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new Error("bad signature");
    }
  } else {
    throw new Error("no signature this receiver can check");
  }
  const batch = JSON.parse(rawBody.toString("utf8"));
  if (Math.abs(Date.now() / 1000 - batch.sent_at) > toleranceSeconds) {
    throw new Error("stale delivery");
  }
  return batch; // then skip each event whose id you have already handled
}

// The test's harness, not part of the recipe.
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { body, headers, jwksUrl, secret } = JSON.parse(input);
try {
  const batch = await verifyWebhook(Buffer.from(body, "base64"), headers, { jwksUrl, secret });
  console.log(batch.events.map((e) => e.id).join(","));
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
