/**
 * A stand-in for the sessile frontend API, strict where the SDK could go wrong:
 * it verifies every DPoP proof with WebCrypto against the embedded jwk, checks
 * `htm`, `htu`, `iat` against its own (possibly skewed) clock, nonces, `jti`
 * replay and the session's key binding, and keeps the refresh "cookie" the way
 * a browser's cookie jar would: one per origin, shared by every client.
 */

import { base64urlDecode, base64urlEncode } from "../src/jwt.js";

export const ORIGIN = "https://auth.example.test";
const BASE = `${ORIGIN}/v1/session`;

export interface ProofSeen {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  jkt: string;
}

export interface RequestSeen {
  method: string;
  url: string;
  path: string;
  headers: Headers;
  body: unknown;
  credentials: RequestCredentials | undefined;
  proof?: ProofSeen;
  /** The status answered; unset for a network failure or a hang. */
  status?: number;
}

/** What an override returns: a response, a network failure, or a request that never answers. */
export type Override = (request: RequestSeen) => Response | "network" | "hang" | undefined;

interface Session {
  id: string;
  userId: string;
  jkt: string;
  revoked: boolean;
  /** The scope a redeemed step-up granted it, until spent. */
  granted?: string;
}

export interface IdentifierRow {
  type: "email_address" | "phone_number";
  value: string;
  verified: boolean;
}

interface Challenge {
  id: string;
  sessionId: string;
  userId: string;
  scope: string;
  steps: string[];
  position: number;
  metadata: Record<string, string> | undefined;
  /** The jti of the one current token. */
  jti: string;
  exp: number;
  /** The verification cookie of the code sent for the current step. */
  verification?: string;
  redeemed: boolean;
}

/** A code the server "sent" for a step-up step. */
export interface CodeSent {
  to: string;
  challengeId: string;
}

/** The step-up code every step accepts. */
export const STEP_CODE = "654321";

const REGISTER: Record<string, { step: string; type: IdentifierRow["type"] }> = {
  "prld:email:register": { step: "verify_email", type: "email_address" },
  "prld:phone:register": { step: "verify_sms", type: "phone_number" },
};

export class FakeServer {
  /** Added to the real clock: the server's clock is this far ahead. */
  skewMs = 0;
  requireNonce = true;
  accessTtl = 300;
  /** Sign-up proves the address by a code first, as sessile does by default. */
  signUpNeedsCode = true;
  readonly requests: RequestSeen[] = [];
  readonly overrides: Override[] = [];
  readonly proofs: ProofSeen[] = [];
  /** The refresh cookie in the browser's jar. */
  cookie: string | undefined;
  /** The verification cookie of the last step-up code sent. */
  verification: string | undefined;
  /** Step-up: each scope's steps in order (none: granted at once); `block` refuses it. */
  readonly stepUpScopes: Record<string, string[] | "block"> = {
    "prld:pwd:write": ["verify_email"],
    "app:transfer": ["verify_email", "verify_password", "app_review"],
    "app:instant": [],
    "app:never": "block",
  };
  /** Seconds a challenge lives. */
  challengeTtl = 600;
  readonly codesSent: CodeSent[] = [];
  /** Each user's identifiers. */
  readonly identifiers = new Map<string, IdentifierRow[]>([
    ["usr_otp", [{ type: "email_address", value: "ada@example.com", verified: true }]],
  ]);

  private nonceCounter = 0;
  private readonly nonces = new Set<string>();
  private readonly jtis = new Set<string>();
  private readonly sessions = new Map<string, Session>();
  private readonly refreshTokens = new Map<string, string>();
  private readonly accessTokens = new Map<string, { sid: string; scope: string }>();
  private readonly stepUps = new Map<string, Challenge>();
  private readonly challenges = new Map<string, string>();
  /** The PKCE S256 challenge a social login's challenge token is bound to. */
  private readonly pkce = new Map<string, string>();
  private counter = 0;

  now(): number {
    return Date.now() + this.skewMs;
  }

  count(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }

  /** Requests to `path` that got a 2xx answer. */
  served(path: string): number {
    return this.requests.filter((r) => r.path === path && r.status !== undefined && r.status < 300)
      .length;
  }

  /** Make every access token issued so far unacceptable, as if they had expired. */
  rejectAccessTokens(): void {
    this.accessTokens.clear();
  }

  readonly fetch = async (input: string, init: RequestInit): Promise<Response> => {
    const url = new URL(input);
    const headers = new Headers(init.headers);
    const text = typeof init.body === "string" ? init.body : "";
    const seen: RequestSeen = {
      method: init.method ?? "GET",
      url: input,
      path: url.pathname.replace("/v1/session", ""),
      headers,
      body: text === "" ? undefined : (JSON.parse(text) as unknown),
      credentials: init.credentials,
    };
    this.requests.push(seen);
    const override = this.overrides.shift()?.(seen);
    if (override === "network") throw new TypeError("fetch failed");
    if (override === "hang") {
      return new Promise((_, reject) => {
        init.signal?.addEventListener("abort", () =>
          reject(new DOMException("The operation was aborted.", "AbortError")),
        );
      });
    }
    const dpopRoute = ["/login/otp/check", "/login/finalize", "/refresh", "/revoke"].includes(
      seen.path,
    );
    // sessile's account routes answer a nonce too; their proof is checked by each route.
    const accountRoute = ["/me/password/reset", "/me/identifiers/remove"].includes(seen.path);
    let response: Response;
    try {
      response = override ?? (await this.route(seen, url, dpopRoute));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      response = json(error.status, { code: error.code, message: error.code });
    }
    seen.status = response.status;
    response.headers.set("Date", new Date(this.now()).toUTCString());
    if (dpopRoute || accountRoute) response.headers.set("DPoP-Nonce", this.issueNonce());
    return response;
  };

  /** The nonce sent with the latest DPoP response. */
  get lastNonce(): string | undefined {
    return this.nonceCounter === 0 ? undefined : `n${this.nonceCounter}`;
  }

  private issueNonce(): string {
    const nonce = `n${++this.nonceCounter}`;
    this.nonces.add(nonce);
    return nonce;
  }

  private async route(req: RequestSeen, url: URL, dpopRoute: boolean): Promise<Response> {
    const body = (req.body ?? {}) as Record<string, unknown>;
    // A logout from a browser with no key carries no proof: it only clears the cookie.
    const proofless = req.path === "/revoke" && !req.headers.has("DPoP");
    if (dpopRoute && !proofless) req.proof = await this.verifyProof(req);
    switch (`${req.method} ${req.path}`) {
      case "POST /login/otp":
      case "POST /login/otp/retry":
        return json(200, {});
      case "POST /login/otp/check":
        if (body.code !== "123456") throw new HttpError(400, "bad_check_code");
        return this.createSession("usr_otp", req.proof!.jkt);
      case "POST /login/email/password":
        if (body.password !== "correct horse") throw new HttpError(401, "unauthorized");
        return this.challenge("usr_password");
      case "POST /login/email/sign-up":
        if (this.signUpNeedsCode) {
          return json(200, { challenge_token: "otp_1.secret", status: "otp_required" });
        }
        return this.challenge("usr_new");
      case "POST /login/oauth/google/authorize": {
        if (body.code_challenge_method !== "S256") throw new HttpError(400, "bad_request");
        const token = `chl_oauth_${++this.counter}`;
        this.challenges.set(token, "usr_oauth");
        this.pkce.set(token, String(body.code_challenge));
        return json(200, {
          authorization_url: `https://provider.example.test/authorize?token=${token}`,
        });
      }
      case "POST /login/finalize": {
        const user = this.challenges.get(String(body.challenge_token));
        if (!user) throw new HttpError(400, "bad_request");
        this.challenges.delete(String(body.challenge_token));
        const pkce = this.pkce.get(String(body.challenge_token));
        if (pkce !== undefined && pkce !== (await s256(String(body.code_verifier)))) {
          throw new HttpError(400, "invalid_challenge_token");
        }
        return this.createSession(user, req.proof!.jkt);
      }
      case "GET /password/compliancy":
        return json(200, {
          min_length: 8,
          max_length: 64,
          uppercase: 1,
          lowercase: 1,
          numbers: 1,
          symbols: 0,
        });
      case "POST /refresh": {
        const session = this.sessionOfCookie(req.proof!.jkt);
        if (typeof body.step_up_token === "string") this.redeem(body.step_up_token, session);
        this.cookie = this.newRefreshToken(session.id);
        return json(200, this.issueAccess(session));
      }
      case "POST /stepup/request": {
        const session = this.bearer(req).session;
        const scope = String(body.scope);
        const metadata = body.metadata as Record<string, string> | undefined;
        const register = REGISTER[scope];
        const steps = register ? [register.step] : this.stepUpScopes[scope];
        if (steps === undefined) throw new HttpError(403, "scope_not_allowed");
        if (steps === "block") return json(200, { status: "block" });
        if (register && !metadata?.identifier) throw new HttpError(400, "invalid_metadata");
        const challenge: Challenge = {
          id: `stp_${++this.counter}`,
          sessionId: session.id,
          userId: session.userId,
          scope,
          steps,
          position: 0,
          metadata,
          jti: "",
          exp: Math.floor(this.now() / 1000) + this.challengeTtl,
          redeemed: false,
        };
        this.stepUps.set(challenge.id, challenge);
        const status = steps.length ? "review" : "continue";
        return json(200, { status, challenge_token: this.challengeToken(challenge) });
      }
      case "POST /otp": {
        const challenge = this.currentChallenge(body.challenge_token);
        const step = challenge.steps[challenge.position];
        if (step !== "verify_email" && step !== "verify_sms") {
          throw new HttpError(404, "step_not_found");
        }
        challenge.verification = `ver_${++this.counter}`;
        this.verification = challenge.verification;
        const to =
          challenge.metadata?.identifier ??
          this.identifiersOf(challenge.userId).find((i) => i.verified)!.value;
        this.codesSent.push({ to, challengeId: challenge.id });
        return new Response(null, { status: 204 });
      }
      case "POST /otp/retry":
        if (!this.verification) throw new HttpError(401, "unauthorized");
        return new Response(null, { status: 204 });
      case "POST /otp/check": {
        const challenge = this.currentChallenge(body.challenge_token);
        await this.verifyChallengeProof(req, challenge);
        if (!challenge.verification || challenge.verification !== this.verification) {
          throw new HttpError(400, "bad_check_code");
        }
        if (body.code !== STEP_CODE) throw new HttpError(400, "bad_check_code");
        const register = REGISTER[challenge.scope];
        if (register) {
          this.identifiersOf(challenge.userId).push({
            type: register.type,
            value: String(challenge.metadata?.identifier),
            verified: true,
          });
        }
        return json(200, { challenge_token: this.advance(challenge, "verify_") });
      }
      case "POST /stepup/password": {
        const challenge = this.currentChallenge(body.challenge_token);
        await this.verifyChallengeProof(req, challenge);
        if (body.password !== "correct horse") throw new HttpError(400, "invalid_password");
        return json(200, { challenge_token: this.advance(challenge, "verify_password") });
      }
      case "POST /stepup/continue": {
        const session = this.bearer(req).session;
        const challenge = this.currentChallenge(body.challenge_token);
        if (challenge.sessionId !== session.id) throw new HttpError(403, "token_mismatch");
        await this.verifyChallengeProof(req, challenge);
        const verification = decodeClaims(String(body.verification_token));
        const step = String(challenge.steps[challenge.position]);
        if (
          verification.challenge_id !== challenge.id ||
          verification.key !== step ||
          verification.status !== "completed"
        ) {
          throw new HttpError(400, "invalid_verification_token");
        }
        return json(200, { challenge_token: this.advance(challenge, step) });
      }
      case "GET /me/identifiers": {
        const session = this.bearer(req).session;
        return json(200, { identifiers: this.identifiersOf(session.userId) });
      }
      case "POST /me/password/reset": {
        // Prelude's clients send no proof here; one that is sent must be the session's.
        if (req.headers.has("DPoP")) await this.verifySessionProof(req);
        const session = this.requireGrant(req, "prld:pwd:write");
        delete session.granted;
        return new Response(null, { status: 204 });
      }
      case "POST /me/identifiers/remove": {
        await this.verifySessionProof(req);
        const identifier = body.identifier as { type: string; value: string };
        const scope =
          identifier.type === "email_address" ? "prld:email:register" : "prld:phone:register";
        const session = this.requireGrant(req, scope);
        const mine = this.identifiersOf(session.userId);
        const at = mine.findIndex(
          (i) => i.type === identifier.type && i.value === identifier.value,
        );
        if (at < 0) throw new HttpError(404, "not_found");
        if (mine.length === 1) throw new HttpError(409, "conflict");
        mine.splice(at, 1);
        return json(200, { removed: true });
      }
      case "POST /revoke": {
        const sid = this.cookie && this.refreshTokens.get(this.cookie);
        const session = sid ? this.sessions.get(sid) : undefined;
        if (session && session.jkt !== req.proof?.jkt)
          throw new HttpError(401, "dpop_key_mismatch");
        if (session) session.revoked = true;
        this.cookie = undefined;
        return json(200, { revoked: session !== undefined });
      }
      case "GET /me/list": {
        const session = this.bearer(req).session;
        const limit = Number(url.searchParams.get("limit") ?? 10);
        const offset = Number(url.searchParams.get("offset") ?? 0);
        if (!(limit >= 1 && limit <= 100)) throw new HttpError(400, "invalid_pagination_limit");
        const mine = [...this.sessions.values()].filter(
          (s) => s.userId === session.userId && !s.revoked,
        );
        return json(200, {
          sessions: mine
            .slice(offset, offset + limit)
            .map((s) => ({ id: s.id, device_type: "desktop" })),
          total: mine.length,
          limit,
          offset,
        });
      }
      case "POST /me/revoke": {
        const session = this.bearer(req).session;
        const target = url.searchParams.get("target");
        const id = url.searchParams.get("session_id");
        let revoked = 0;
        for (const s of this.sessions.values()) {
          if (s.userId !== session.userId || s.revoked) continue;
          const hit =
            target === "all" ||
            (target === "others" && s.id !== session.id) ||
            (target === "mine" && s.id === session.id) ||
            (target === "session" && s.id === id);
          if (hit) {
            s.revoked = true;
            revoked++;
          }
        }
        return json(200, { revoked });
      }
      default:
        throw new HttpError(404, "not_found");
    }
  }

  /**
   * A proof's signature, `htm`, `htu` and freshness. A session proof has a new `jti` and,
   * when `requireNonce`, a nonce; a challenge-bound one (`bound`) carries the challenge
   * token's `jti`, so it is the exact proof that counts once, and `iat` its freshness.
   */
  private async verifyProof(req: RequestSeen, bound = false): Promise<ProofSeen> {
    const raw = req.headers.get("DPoP");
    if (!raw) throw new HttpError(401, "missing_dpop_proof");
    const [h, c, s] = raw.split(".");
    if (!h || !c || !s) throw new HttpError(401, "invalid_dpop_proof");
    const decoder = new TextDecoder();
    const header = JSON.parse(decoder.decode(base64urlDecode(h))) as Record<string, unknown>;
    const claims = JSON.parse(decoder.decode(base64urlDecode(c))) as Record<string, unknown>;
    const jwk = header.jwk as JsonWebKey;
    if (header.typ !== "dpop+jwt" || header.alg !== "ES256")
      throw new HttpError(401, "invalid_dpop_proof");
    if (Object.keys(jwk).sort().join() !== "crv,kty,x,y")
      throw new HttpError(401, "invalid_dpop_proof");
    const key = await crypto.subtle.importKey(
      "jwk",
      jwk,
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
    const valid = await crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      key,
      base64urlDecode(s),
      new TextEncoder().encode(`${h}.${c}`),
    );
    if (!valid) throw new HttpError(401, "invalid_dpop_proof");
    const expectedHtu = req.url.split(/[?#]/)[0];
    if (claims.htm !== req.method || claims.htu !== expectedHtu)
      throw new HttpError(401, "invalid_dpop_proof");
    const replayKey = bound ? raw : claims.jti;
    if (typeof replayKey !== "string" || this.jtis.has(replayKey))
      throw new HttpError(401, "invalid_dpop_proof");
    const iat = Number(claims.iat);
    const serverSeconds = this.now() / 1000;
    const nonceOk = typeof claims.nonce === "string" && this.nonces.has(claims.nonce);
    const iatOk = iat >= serverSeconds - 60 && iat <= serverSeconds + 5;
    if (bound ? !iatOk : this.requireNonce ? !nonceOk : !(nonceOk || iatOk))
      throw new HttpError(401, "use_dpop_nonce");
    this.jtis.add(replayKey);
    const digest = await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })),
    );
    const proof = { header, claims, jkt: base64urlEncode(new Uint8Array(digest)) };
    this.proofs.push(proof);
    return proof;
  }

  /** An account route's proof: fresh, by the key of the Bearer token's session. */
  private async verifySessionProof(req: RequestSeen): Promise<void> {
    const session = this.bearer(req).session;
    req.proof = await this.verifyProof(req);
    if (session.jkt !== req.proof.jkt) throw new HttpError(401, "dpop_key_mismatch");
  }

  /** A step-up route's proof: the session's key, the challenge token's jti, no nonce. */
  private async verifyChallengeProof(req: RequestSeen, challenge: Challenge): Promise<void> {
    req.proof = await this.verifyProof(req, true);
    if (req.proof.claims.jti !== challenge.jti) throw new HttpError(403, "token_mismatch");
    if ("nonce" in req.proof.claims) throw new HttpError(401, "invalid_dpop_proof");
    if (this.sessions.get(challenge.sessionId)?.jkt !== req.proof.jkt) {
      throw new HttpError(403, "token_mismatch");
    }
  }

  private identifiersOf(userId: string): IdentifierRow[] {
    let rows = this.identifiers.get(userId);
    if (!rows) this.identifiers.set(userId, (rows = []));
    return rows;
  }

  private currentChallenge(token: unknown): Challenge {
    if (typeof token !== "string") throw new HttpError(400, "missing_challenge_token");
    const claims = decodeClaims(token);
    const challenge = this.stepUps.get(String(claims.challenge_id));
    if (!challenge || claims.jti !== challenge.jti) {
      throw new HttpError(400, "invalid_challenge_token");
    }
    if (challenge.exp * 1000 <= this.now()) throw new HttpError(400, "expired_challenge_token");
    if (challenge.position >= challenge.steps.length) throw new HttpError(404, "step_not_found");
    return challenge;
  }

  /** The current step, which must start with `kind`, is proven: the next token. */
  private advance(challenge: Challenge, kind: string): string {
    if (!String(challenge.steps[challenge.position]).startsWith(kind)) {
      throw new HttpError(404, "step_not_found");
    }
    challenge.position++;
    delete challenge.verification;
    return this.challengeToken(challenge);
  }

  private challengeToken(challenge: Challenge): string {
    challenge.jti = `jti_${++this.counter}`;
    const done = challenge.position >= challenge.steps.length;
    const claims: Record<string, unknown> = {
      challenge_id: challenge.id,
      current_step: done ? "completed" : challenge.steps[challenge.position],
      steps: challenge.steps.map((key, i) => ({
        order: i + 1,
        expiration_duration: 300,
        key,
        done: i < challenge.position,
      })),
      scope_requested: challenge.scope,
      sub: challenge.userId,
      sid: challenge.sessionId,
      grant_mode: "session-bound",
      exp: challenge.exp,
      jti: challenge.jti,
    };
    if (challenge.metadata) claims.metadata = challenge.metadata;
    return signedLooking({ alg: "ES256", typ: "stepup+jwt" }, claims);
  }

  private redeem(token: string, session: Session): void {
    const claims = decodeClaims(token);
    const challenge = this.stepUps.get(String(claims.challenge_id));
    if (!challenge || claims.jti !== challenge.jti) {
      throw new HttpError(400, "invalid_challenge_token");
    }
    if (claims.current_step !== "completed") throw new HttpError(409, "step_not_completed");
    if (challenge.sessionId !== session.id) throw new HttpError(403, "token_mismatch");
    if (challenge.redeemed) throw new HttpError(409, "token_reused");
    challenge.redeemed = true;
    session.granted = challenge.scope;
  }

  /** The access token carries `scope` and the session's grant of it is not spent. */
  private requireGrant(req: RequestSeen, scope: string): Session {
    const { session, scope: tokenScope } = this.bearer(req);
    if (!tokenScope.split(" ").includes(scope) || session.granted !== scope) {
      throw new HttpError(403, "insufficient_scope");
    }
    return session;
  }

  private challenge(userId: string): Response {
    const token = `ch_${++this.counter}`;
    this.challenges.set(token, userId);
    return json(200, { challenge_token: token });
  }

  private createSession(userId: string, jkt: string): Response {
    const session: Session = { id: `ses_${++this.counter}`, userId, jkt, revoked: false };
    this.sessions.set(session.id, session);
    this.cookie = this.newRefreshToken(session.id);
    return json(200, this.issueAccess(session));
  }

  private newRefreshToken(sessionId: string): string {
    const token = `rt_${++this.counter}`;
    this.refreshTokens.set(token, sessionId);
    return token;
  }

  private sessionOfCookie(jkt: string): Session {
    const sid = this.cookie && this.refreshTokens.get(this.cookie);
    const session = sid ? this.sessions.get(sid) : undefined;
    if (!session || session.revoked) throw new HttpError(401, "unauthorized");
    if (session.jkt !== jkt) throw new HttpError(401, "dpop_key_mismatch");
    return session;
  }

  private issueAccess(session: Session): { access_token: string; expires_at: number } {
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + this.accessTtl;
    const header = { alg: "ES256", typ: "at+jwt", kid: "k1" };
    const scope = session.granted ? `session ${session.granted}` : "session";
    const claims = {
      sub: session.userId,
      sid: session.id,
      scope,
      iat,
      exp,
      jti: `at_${++this.counter}`,
    };
    const token = signedLooking(header, claims);
    this.accessTokens.set(token, { sid: session.id, scope });
    return { access_token: token, expires_at: exp };
  }

  private bearer(req: RequestSeen): { session: Session; scope: string } {
    const match = /^Bearer (.+)$/.exec(req.headers.get("Authorization") ?? "");
    const access = match ? this.accessTokens.get(match[1]!) : undefined;
    const session = access ? this.sessions.get(access.sid) : undefined;
    if (!access || !session || session.revoked) throw new HttpError(401, "unauthorized");
    return { session, scope: access.scope };
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export { BASE };

/** A JWT-shaped token (the SDK never checks a signature). */
export function signedLooking(header: object, claims: object): string {
  return `${base64urlEncode(JSON.stringify(header))}.${base64urlEncode(JSON.stringify(claims))}.c2ln`;
}

function decodeClaims(token: string): Record<string, unknown> {
  try {
    const part = token.split(".")[1] ?? "";
    return JSON.parse(new TextDecoder().decode(base64urlDecode(part))) as Record<string, unknown>;
  } catch {
    throw new HttpError(400, "invalid_challenge_token");
  }
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64urlEncode(new Uint8Array(digest));
}
