import { describe, expect, it } from "vitest";

import { ServerClock } from "../src/clock.js";
import { DPoPSigner, htuOf } from "../src/dpop.js";
import { base64urlDecode, decode } from "../src/jwt.js";
import { openKeyStore } from "../src/keystore.js";
import { useFreshBrowser } from "./helpers.js";

useFreshBrowser();

const LOCAL = Date.parse("2030-01-01T00:00:00Z");

async function verify(proof: string): Promise<boolean> {
  const [h, c, s] = proof.split(".") as [string, string, string];
  const jwk = decode(proof).header.jwk as JsonWebKey;
  const key = await crypto.subtle.importKey(
    "jwk",
    jwk,
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["verify"],
  );
  return crypto.subtle.verify(
    { name: "ECDSA", hash: "SHA-256" },
    key,
    base64urlDecode(s),
    new TextEncoder().encode(`${h}.${c}`),
  );
}

describe("DPoPSigner", () => {
  it("signs a proof that verifies against its embedded public jwk", async () => {
    const signer = new DPoPSigner(openKeyStore("https://a.test"), new ServerClock(() => LOCAL));
    const proof = await signer.proof("post", "https://a.test/v1/session/refresh?x=1#frag");
    expect(await verify(proof)).toBe(true);
    const { header, claims } = decode(proof);
    expect(header).toMatchObject({
      typ: "dpop+jwt",
      alg: "ES256",
      jwk: { kty: "EC", crv: "P-256" },
    });
    expect(header.jwk).not.toHaveProperty("d");
    expect(claims).toEqual({
      jti: expect.stringMatching(/^[\w-]{22}$/) as string,
      htm: "POST",
      htu: "https://a.test/v1/session/refresh",
      iat: LOCAL / 1000,
    });
  });

  it("a tampered proof does not verify", async () => {
    const signer = new DPoPSigner(openKeyStore("https://a.test"), new ServerClock());
    const [h, , s] = (await signer.proof("POST", "https://a.test/x")).split(".");
    const forged = `${h}.${Buffer.from('{"htm":"GET"}').toString("base64url")}.${s}`;
    expect(await verify(forged)).toBe(false);
  });

  it("puts the latest DPoP-Nonce and the server's time in the claims", async () => {
    const clock = new ServerClock(() => LOCAL);
    const signer = new DPoPSigner(openKeyStore("https://a.test"), clock);
    const before = decode(await signer.proof("POST", "https://a.test/x")).claims;
    expect(before).not.toHaveProperty("nonce");
    signer.observe(new Headers({ "DPoP-Nonce": "first" }));
    signer.observe(new Headers({ "DPoP-Nonce": "second" }));
    signer.observe(new Headers()); // a response without one keeps the last
    clock.observe(new Headers({ Date: new Date(LOCAL + 120_000).toUTCString() }));
    const after = decode(await signer.proof("POST", "https://a.test/x")).claims;
    expect(after.nonce).toBe("second");
    expect(after.iat).toBe(LOCAL / 1000 + 120);
    expect(after.jti).not.toBe(before.jti);
  });

  it("makes no key until it signs", async () => {
    const signer = new DPoPSigner(openKeyStore("https://a.test"), new ServerClock());
    expect(await signer.hasKey()).toBe(false);
    await signer.proof("POST", "https://a.test/x");
    expect(await signer.hasKey()).toBe(true);
    expect(await new DPoPSigner(openKeyStore("https://a.test"), new ServerClock()).hasKey()).toBe(
      true,
    );
  });
});

describe("htuOf", () => {
  it("drops query and fragment and keeps the rest exactly", () => {
    expect(htuOf("https://a.test:8443/v1/session/me/list?limit=5#x")).toBe(
      "https://a.test:8443/v1/session/me/list",
    );
    expect(htuOf("http://127.0.0.1:8000/v1/session/refresh")).toBe(
      "http://127.0.0.1:8000/v1/session/refresh",
    );
  });
});
