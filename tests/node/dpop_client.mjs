// An independent DPoP client for the Python tests: panva's `dpop` package.
// Usage: node dpop_client.mjs <request URL> <htu>
// POSTs a proof, retries once on use_dpop_nonce with the server's DPoP-Nonce,
// and prints {jkt, responses: [{status, nonce, body}]} as JSON.
import { calculateThumbprint, generateKeyPair, generateProof } from "dpop";

const [requestUrl, htu] = process.argv.slice(2);
const keypair = await generateKeyPair("ES256");
const responses = [];
let nonce;
for (let attempt = 0; attempt < 2; attempt++) {
  const proof = await generateProof(keypair, htu, "POST", nonce);
  const response = await fetch(requestUrl, { method: "POST", headers: { DPoP: proof } });
  const body = await response.json();
  responses.push({ status: response.status, nonce: response.headers.get("dpop-nonce"), body });
  if (response.status !== 401 || body.code !== "use_dpop_nonce") break;
  nonce = response.headers.get("dpop-nonce");
}
const jkt = await calculateThumbprint(keypair.publicKey);
process.stdout.write(JSON.stringify({ jkt, responses }));
