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
}

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

  private nonceCounter = 0;
  private readonly nonces = new Set<string>();
  private readonly jtis = new Set<string>();
  private readonly sessions = new Map<string, Session>();
  private readonly refreshTokens = new Map<string, string>();
  private readonly accessTokens = new Map<string, string>();
  private readonly challenges = new Map<string, string>();
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
    let response: Response;
    try {
      response = override ?? (await this.route(seen, url, dpopRoute));
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      response = json(error.status, { code: error.code, message: error.code });
    }
    seen.status = response.status;
    response.headers.set("Date", new Date(this.now()).toUTCString());
    if (dpopRoute) response.headers.set("DPoP-Nonce", this.issueNonce());
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
        if (body.password !== "correct horse") throw new HttpError(401, "invalid_password");
        return this.challenge("usr_password");
      case "POST /login/email/sign-up":
        if (this.signUpNeedsCode) {
          return json(200, { challenge_token: "otp_1.secret", status: "otp_required" });
        }
        return this.challenge("usr_new");
      case "POST /login/finalize": {
        const user = this.challenges.get(String(body.challenge_token));
        if (!user) throw new HttpError(400, "bad_request");
        this.challenges.delete(String(body.challenge_token));
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
        this.cookie = this.newRefreshToken(session.id);
        return json(200, this.issueAccess(session));
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
        const session = this.bearer(req);
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
        const session = this.bearer(req);
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

  private async verifyProof(req: RequestSeen): Promise<ProofSeen> {
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
    if (typeof claims.jti !== "string" || this.jtis.has(claims.jti))
      throw new HttpError(401, "invalid_dpop_proof");
    const iat = Number(claims.iat);
    const serverSeconds = this.now() / 1000;
    const nonceOk = typeof claims.nonce === "string" && this.nonces.has(claims.nonce);
    const iatOk = iat >= serverSeconds - 60 && iat <= serverSeconds + 5;
    if (this.requireNonce ? !nonceOk : !(nonceOk || iatOk))
      throw new HttpError(401, "use_dpop_nonce");
    this.jtis.add(claims.jti);
    const digest = await crypto.subtle.digest(
      "SHA-256",
      new TextEncoder().encode(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })),
    );
    const proof = { header, claims, jkt: base64urlEncode(new Uint8Array(digest)) };
    this.proofs.push(proof);
    return proof;
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
    const claims = { sub: session.userId, sid: session.id, iat, exp, jti: `at_${++this.counter}` };
    const token = `${base64urlEncode(JSON.stringify(header))}.${base64urlEncode(JSON.stringify(claims))}.c2ln`;
    this.accessTokens.set(token, session.id);
    return { access_token: token, expires_at: exp };
  }

  private bearer(req: RequestSeen): Session {
    const match = /^Bearer (.+)$/.exec(req.headers.get("Authorization") ?? "");
    const sid = match ? this.accessTokens.get(match[1]!) : undefined;
    const session = sid ? this.sessions.get(sid) : undefined;
    if (!session || session.revoked) throw new HttpError(401, "unauthorized");
    return session;
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
