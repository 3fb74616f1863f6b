// The Node.js recipe of docs/backend.md ("Webhooks on Node.js"), run by
// tests/verify/test_webhooks.py: reads {body, signature, secret} as JSON on stdin and
// prints the verified batch's event ids, or exits 1 with the reason.
import { createHmac, timingSafeEqual } from "node:crypto";

export function verifyWebhook(rawBody, signature, secret, toleranceSeconds = 300) {
  const expected = Buffer.from(
    "sha256=" + createHmac("sha256", secret).update(rawBody).digest("base64"),
  );
  const given = Buffer.from(signature ?? "");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new Error("bad signature");
  }
  const batch = JSON.parse(rawBody.toString("utf8"));
  if (Math.abs(Date.now() / 1000 - batch.sent_at) > toleranceSeconds) {
    throw new Error("stale delivery");
  }
  return batch; // then skip each event whose id you have already handled
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { body, signature, secret } = JSON.parse(input);
try {
  const batch = verifyWebhook(Buffer.from(body, "utf8"), signature, secret);
  console.log(batch.events.map((e) => e.id).join(","));
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
