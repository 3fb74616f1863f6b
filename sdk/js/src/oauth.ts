/**
 * Social login, as Prelude's SDK 0.6.0 does it: the app keeps a PKCE verifier (RFC 7636,
 * S256) while the browser visits the provider; sessile's callback sends the browser back
 * to the app's page with a `challenge_token`, which is worth nothing without it.
 */

import { SessileError } from "./errors.js";
import { base64urlEncode } from "./jwt.js";

/** Prelude's provider names; a sessile server may configure others. */
export type OAuthProvider = "google" | "apple" | "microsoft" | "github" | "okta" | (string & {});

export interface InitiateOAuthLoginOptions {
  provider: OAuthProvider;
  /** The app's page the browser comes back to; the server's allow-list must name it exactly. */
  redirectURI: string;
}

export interface InitiateOAuthLoginResponse {
  authorization_url: string;
}

/** The app page's query when the browser comes back. */
export interface OAuthCallbackParams {
  code?: string;
  state?: string;
  challenge_token?: string;
  status?: string;
  error?: string;
  error_description?: string;
}

/** The provider's e-mail address must be proven first: `checkOTP` with the code sent to it. */
export interface OTPRequired {
  status: "otp_required";
}

// One tab starts and ends the login, so the verifier lives in that tab only.
const VERIFIER_KEY = "sessile.oauth.code_verifier";

function storage(): Storage | undefined {
  return typeof sessionStorage === "undefined" ? undefined : sessionStorage;
}

/** A fresh verifier (256 random bits) and its S256 challenge. */
export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64urlEncode(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: base64urlEncode(new Uint8Array(digest)) };
}

export function keepVerifier(verifier: string): void {
  storage()?.setItem(VERIFIER_KEY, verifier);
}

/** The verifier kept by `initiateOAuthLogin`, removed: it serves one finalize only. */
export function takeVerifier(): string {
  const verifier = storage()?.getItem(VERIFIER_KEY);
  storage()?.removeItem(VERIFIER_KEY);
  if (!verifier) {
    throw new SessileError(
      "invalid_challenge_token",
      0,
      "No PKCE verifier in this tab: start the social login again.",
    );
  }
  return verifier;
}

/** Throw the provider's (or sessile's) refusal; true when the page carries a login. */
export function validateOAuthCallback(params: OAuthCallbackParams): true {
  if (params.error) {
    throw new SessileError("oauth_error", 0, params.error_description || params.error);
  }
  if (!params.challenge_token && !params.code) {
    throw new SessileError("oauth_error", 0, "The callback carries no challenge token.");
  }
  return true;
}
