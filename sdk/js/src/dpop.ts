/**
 * DPoP proofs (RFC 9449 §4.2): a compact JWS with header
 * `{typ: "dpop+jwt", alg: "ES256", jwk}` and claims `{jti, htm, htu, iat, nonce?}`,
 * signed by the non-extractable key from the key store. The signer also keeps
 * the latest server nonce (§8), taken from every response's `DPoP-Nonce`.
 */

import type { ServerClock } from "./clock.js";
import { base64urlEncode } from "./jwt.js";
import type { KeyStore } from "./keystore.js";

/** The public half of a P-256 key, exactly the members RFC 7638 hashes. */
export interface PublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
}

interface SigningKey {
  privateKey: CryptoKey;
  jwk: PublicJwk;
}

export async function exportPublicJwk(publicKey: CryptoKey): Promise<PublicJwk> {
  const jwk = await crypto.subtle.exportKey("jwk", publicKey);
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || !jwk.x || !jwk.y) {
    throw new TypeError("The DPoP key is not an EC P-256 key.");
  }
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
}

/** `htu` is the request URL without query and fragment (RFC 9449 §4.2). */
export function htuOf(url: string): string {
  const parsed = new URL(url);
  parsed.search = "";
  parsed.hash = "";
  return parsed.href;
}

function randomJti(): string {
  return base64urlEncode(crypto.getRandomValues(new Uint8Array(16)));
}

export class DPoPSigner {
  private key: Promise<SigningKey> | undefined;
  private currentNonce: string | undefined;

  constructor(
    private readonly keys: KeyStore,
    private readonly clock: ServerClock,
  ) {}

  get nonce(): string | undefined {
    return this.currentNonce;
  }

  /** Keep the newest `DPoP-Nonce`; the server sends one on every DPoP response. */
  observe(headers: Headers): void {
    const nonce = headers.get("DPoP-Nonce");
    if (nonce) this.currentNonce = nonce;
  }

  /** Take a nonce another tab of this browser got with its token: it saves this tab a retry. */
  adopt(nonce: string | undefined): void {
    if (nonce) this.currentNonce = nonce;
  }

  /** Whether a key pair exists already, without making one. */
  async hasKey(): Promise<boolean> {
    return this.key !== undefined || (await this.keys.load()) !== undefined;
  }

  /**
   * A fresh proof for one request: a new `jti` every time, so a retry is never a replay.
   * A step-up call passes its challenge token's `jti` instead, and then sends no nonce,
   * as Prelude's SDK does (the server checks those proofs by `iat`).
   */
  async proof(method: string, url: string, jti?: string): Promise<string> {
    const { privateKey, jwk } = await this.signingKey();
    const header = { typ: "dpop+jwt", alg: "ES256", jwk };
    const claims: Record<string, string | number> = {
      jti: jti ?? randomJti(),
      htm: method.toUpperCase(),
      htu: htuOf(url),
      iat: this.clock.seconds(),
    };
    if (this.currentNonce !== undefined && jti === undefined) claims.nonce = this.currentNonce;
    const input = `${base64urlEncode(JSON.stringify(header))}.${base64urlEncode(JSON.stringify(claims))}`;
    // WebCrypto's ECDSA signature is already r || s, the form JWS uses (RFC 7518 §3.4).
    const signature = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      privateKey,
      new TextEncoder().encode(input),
    );
    return `${input}.${base64urlEncode(new Uint8Array(signature))}`;
  }

  private signingKey(): Promise<SigningKey> {
    this.key ??= this.keys
      .loadOrCreate()
      .then(async (pair) => ({
        privateKey: pair.privateKey,
        jwk: await exportPublicJwk(pair.publicKey),
      }))
      .catch((error: unknown) => {
        this.key = undefined;
        throw error;
      });
    return this.key;
  }
}
