/**
 * `SessionClient`: the calls of Prelude's `PrldSessionClient` against a
 * sessile server's frontend API (DESIGN §2, §10). It owns the pieces in the
 * other modules: the transport, the DPoP signer, the token cache and the tabs.
 */

import { TokenCache, type CachedToken, type TokenStorage } from "./cache.js";
import { ServerClock } from "./clock.js";
import { DPoPSigner } from "./dpop.js";
import { SessileError } from "./errors.js";
import { RefreshHandoff } from "./handoff.js";
import { Transport, type ApiRequest, type FetchLike } from "./http.js";
import { decode, type JsonObject } from "./jwt.js";
import { openKeyStore } from "./keystore.js";
import * as oauth from "./oauth.js";
import { checkPassword, type PasswordPolicy, type PasswordValidation } from "./password.js";
import {
  ChallengeCache,
  StepUpFlow,
  type OnChallenge,
  type StepUpContinueResponse,
  type StepUpOtpCheckResponse,
  type StepUpOtpCreateOptions,
  type StepUpPasswordCheckResponse,
  type StepUpRequestOptions,
  type StepUpRequestResponse,
} from "./stepup.js";
import { Tabs, type TabMessage } from "./tabs.js";

export interface SessionClientOptions {
  /** The server's public URL, e.g. `https://auth.example.com` (no `/v1/session`). */
  url?: string;
  /** Prelude's option: a host name, meaning `url: "https://<domain>"`. Give `url` or `domain`. */
  domain?: string;
  /** Refresh when the cached token has less than this left, in milliseconds. Default 30 000. */
  refreshMargin?: number;
  /** Per-request timeout in milliseconds. Default 10 000. */
  timeout?: number;
  /** A `fetch` to use instead of the global one. */
  fetch?: FetchLike;
  /** Shares the access token across tabs and reloads (e.g. `localStorage`). Default: memory only. */
  storage?: TokenStorage;
}

export interface Identifier {
  type: "phone_number" | "email_address";
  value: string;
}

/** One of the user's identifiers, as `listIdentifiers` gives it. */
export interface IdentifierInfo extends Identifier {
  /** Proven by a code (or by the social login's provider). */
  verified: boolean;
}

/** `GET /me/identifiers`: e-mail addresses first, then phone numbers. */
export interface IdentifierList {
  identifiers: IdentifierInfo[];
}

/** `resetPassword`: the new password, checked against the server's policy. */
export interface ResetPasswordOptions {
  password: string;
}

export interface OTPLoginOptions {
  identifier: Identifier;
  login_config_id?: string;
}

/** A password login or sign-up: `identifier` is the e-mail address. */
export interface PasswordLoginOptions {
  identifier: string;
  password: string;
}

export interface User {
  accessToken: string;
  /** The access token's claims (`sub`, `sid`, `exp`, custom claims, …). */
  profile: JsonObject;
}

export interface SessionResult {
  user: User;
}

/**
 * What a sign-up gives. By default the server first proves the address: `otp_required`,
 * a code was sent to it (or, when the address already has an account, a notice), and
 * `checkOTP(code)` then creates the account and the session. A server that skips the
 * proof signs in at once.
 */
export type SignUpResult = { status: "otp_required" } | ({ status: "signed_in" } & SessionResult);

export interface SessionInfo {
  id: string;
  device_type: string;
  device_model: string | null;
  os_version: string | null;
  country_code: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
}

export interface SessionList {
  sessions: SessionInfo[];
  total: number;
  limit: number;
  offset: number;
}

export type RevokeTarget = "all" | "others" | "mine" | "session";

/**
 * `refresh({challenge})`: redeem a completed step-up challenge (its token, and its
 * `challenge_id`) on this refresh. The step-up calls do it themselves.
 */
export interface RefreshOptions {
  challenge?: { token: string; id: string };
}

interface TokenResponse {
  access_token: string;
  expires_at: number;
}

const DEFAULT_MARGIN_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 10_000;
const NETWORK_RETRIES = 2;
const BACKOFF_MS = 100;

export class SessionClient {
  private readonly transport: Transport;
  private readonly clock = new ServerClock();
  private readonly signer: DPoPSigner;
  private readonly cache: TokenCache;
  private readonly tabs: Tabs;
  private readonly handoff: RefreshHandoff;
  private policy: Promise<PasswordPolicy> | undefined;
  /**
   * Tokens obtained at or before this instant (local ms, comparable across tabs)
   * are not served from the cache. Reset once this tab gets a token from the server.
   */
  private invalidatedAt = -Infinity;
  /** Bumped by `invalidateCache()`, so a refresh already under way is not joined after it. */
  private generation = 0;
  private inflight: { generation: number; result: Promise<SessionResult> } | undefined;
  private readonly stepUps: StepUpFlow;

  constructor(options: SessionClientOptions) {
    const url = baseUrl(options);
    const fetcher = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.signer = new DPoPSigner(openKeyStore(url), this.clock);
    this.transport = new Transport({
      baseUrl: `${url}/v1/session`,
      fetch: fetcher,
      timeoutMs: options.timeout ?? DEFAULT_TIMEOUT_MS,
      retries: NETWORK_RETRIES,
      backoffMs: BACKOFF_MS,
      observe: (headers) => {
        this.clock.observe(headers);
        this.signer.observe(headers);
      },
    });
    this.cache = new TokenCache(
      url,
      this.clock,
      options.refreshMargin ?? DEFAULT_MARGIN_MS,
      options.storage,
    );
    this.tabs = new Tabs(url, (message) => this.onTabMessage(message));
    this.handoff = new RefreshHandoff(url);
    this.stepUps = new StepUpFlow(
      {
        send: async (request) => (await this.transport.send(request)).data as never,
        bearer: (request) => this.bearerCall(request),
        proof: (method, url, jti) => this.signer.proof(method, url, jti),
        redeem: async (token, id) => {
          await this.invalidateCache();
          return this.refresh({ challenge: { token, id } });
        },
      },
      new ChallengeCache(url, this.clock, options.storage),
    );
  }

  /** Send a one-time code to a phone number or email address. */
  async startOTPLogin(options: OTPLoginOptions): Promise<void> {
    const body: Record<string, unknown> = { identifier: options.identifier };
    if (options.login_config_id !== undefined) body.login_config_id = options.login_config_id;
    await this.transport.send({ method: "POST", path: "/login/otp", body });
  }

  /** Check the code; on success the session exists and its first access token is cached. */
  async checkOTP(code: string): Promise<SessionResult> {
    return this.signIn(await this.dpopCall<TokenResponse>("/login/otp/check", { code }));
  }

  /** Send the code again (the server enforces a cooldown). */
  async retryOTP(): Promise<void> {
    await this.transport.send({ method: "POST", path: "/login/otp/retry" });
  }

  /** Log in with an e-mail address and a password. */
  async loginWithPassword(options: PasswordLoginOptions): Promise<SessionResult> {
    return this.finalize("/login/email/password", options);
  }

  /** Sign up with an e-mail address and a password; usually the code step comes next. */
  async signUpWithEmail(options: PasswordLoginOptions): Promise<SignUpResult> {
    const { data } = await this.transport.send<{ challenge_token: string; status?: string }>({
      method: "POST",
      path: "/login/email/sign-up",
      body: { identifier: options.identifier, password: options.password },
    });
    // The verification cookie is set: checkOTP carries on from here.
    if (data.status === "otp_required") return { status: "otp_required" };
    return { status: "signed_in", ...(await this.redeem(data.challenge_token)) };
  }

  /**
   * Start a social login: the provider's authorize URL. The PKCE verifier stays in this
   * tab (sessionStorage) for `finalizeOAuthLogin`.
   */
  async initiateOAuthLogin(
    options: oauth.InitiateOAuthLoginOptions,
  ): Promise<oauth.InitiateOAuthLoginResponse> {
    const { verifier, challenge } = await oauth.pkcePair();
    oauth.keepVerifier(verifier);
    const { data } = await this.transport.send<oauth.InitiateOAuthLoginResponse>({
      method: "POST",
      path: `/login/oauth/${encodeURIComponent(options.provider)}/authorize`,
      body: {
        redirect_uri: options.redirectURI,
        code_challenge: challenge,
        code_challenge_method: "S256",
      },
    });
    return data;
  }

  /** Start a social login and send this tab to the provider. */
  async loginWithOAuth(options: oauth.InitiateOAuthLoginOptions): Promise<void> {
    const { authorization_url } = await this.initiateOAuthLogin(options);
    window.location.assign(authorization_url);
  }

  /** On the app's callback page: throw the refusal it carries, or return true. */
  validateOAuthCallback(params: oauth.OAuthCallbackParams): true {
    return oauth.validateOAuthCallback(params);
  }

  /**
   * Finish a social login with the page's `challenge_token` and this tab's verifier. With
   * `{status: "otp_required"}` a code went to the provider's e-mail address: `checkOTP`.
   */
  async finalizeOAuthLogin(challengeToken: string): Promise<SessionResult | oauth.OTPRequired> {
    const answer = await this.dpopCall<TokenResponse | oauth.OTPRequired>("/login/finalize", {
      challenge_token: challengeToken,
      code_verifier: oauth.takeVerifier(),
    });
    if ("status" in answer && answer.status === "otp_required") return answer;
    return this.signIn(answer as TokenResponse);
  }

  /** Check a password against the server's policy (fetched once) without sending it. */
  async validatePassword(password: string): Promise<PasswordValidation> {
    return checkPassword(password, await this.getPasswordCompliancy());
  }

  /** The server's password policy (`GET /password/compliancy`), fetched once. */
  async getPasswordCompliancy(): Promise<PasswordPolicy> {
    this.policy ??= this.transport
      .send<PasswordPolicy>({ method: "GET", path: "/password/compliancy" })
      .then((response) => response.data)
      .catch((error: unknown) => {
        this.policy = undefined;
        throw error;
      });
    return this.policy;
  }

  /**
   * A valid access token: the cached one while it has more than `refreshMargin`
   * left, else a new one from the server, one refresh at a time across tabs.
   */
  async refresh(options: RefreshOptions = {}): Promise<SessionResult> {
    const challenge = options.challenge;
    if (challenge) {
      const result = await this.refreshWithStepUp(challenge.token);
      this.stepUps.forget(challenge.id);
      return result;
    }
    const cached = this.cache.fresh(this.invalidatedAt);
    if (cached) return toResult(cached);
    if (this.inflight?.generation === this.generation) return this.inflight.result;
    const waitingSince = Date.now();
    const result = this.tabs
      .withRefreshLock(async () => {
        // While this tab waited, another may have refreshed: its token arrived
        // by broadcast, through the shared storage, or in the handoff.
        const arrived =
          this.cache.fresh(this.invalidatedAt) ?? (await this.handedOff(waitingSince));
        if (arrived) return toResult(arrived);
        return this.rotate();
      })
      .finally(() => {
        if (this.inflight?.result === result) this.inflight = undefined;
      });
    this.inflight = { generation: this.generation, result };
    return result;
  }

  /** Make the next `refresh()` ask the server, even if the cached token is still valid. */
  invalidateCache(): Promise<void> {
    this.invalidatedAt = Date.now();
    this.generation++;
    return Promise.resolve();
  }

  /** Revoke this session on the server and forget it here and in the other tabs. */
  async logout(): Promise<void> {
    try {
      if (await this.signer.hasKey()) await this.dpopCall("/revoke");
      else await this.transport.send({ method: "POST", path: "/revoke" });
    } finally {
      this.forget();
    }
  }

  async listSessions(page: { limit?: number; offset?: number } = {}): Promise<SessionList> {
    return this.bearerCall<SessionList>({
      method: "GET",
      path: "/me/list",
      query: { limit: page.limit, offset: page.offset },
    });
  }

  async revokeSessions(target: RevokeTarget, sessionId?: string): Promise<void> {
    if (target === "session" && !sessionId) {
      throw new TypeError('revokeSessions("session", id) needs the session id.');
    }
    const current = this.cache.latest();
    await this.bearerCall({
      method: "POST",
      path: "/me/revoke",
      query: { target, session_id: target === "session" ? sessionId : undefined },
    });
    const mine = current && decode(current.accessToken).claims.sid === sessionId;
    if (target === "all" || target === "mine" || (target === "session" && mine)) this.forget();
  }

  /** The cached access token's claims, as Prelude's `getProfile`; undefined when logged out. */
  getProfile(): Promise<JsonObject | undefined> {
    const latest = this.cache.latest();
    return Promise.resolve(latest ? decode(latest.accessToken).claims : undefined);
  }

  /** This session's id (`sid`), or null when logged out. */
  async getSessionId(): Promise<string | null> {
    const sid = (await this.getProfile())?.sid;
    return typeof sid === "string" ? sid : null;
  }

  /**
   * Ask for a scope. With `review` (steps to prove) the challenge is kept, by its id, for
   * the step calls; with `continue` the scope is granted at once and the session is
   * refreshed with it here. `onChallenge` is told either way; `block` has no challenge.
   */
  requestStepUp(options: StepUpRequestOptions): Promise<StepUpRequestResponse> {
    return this.stepUps.request(options);
  }

  /** Send the code of the challenge's current step (`verify_email` or `verify_sms`). */
  otpCreate(options: StepUpOtpCreateOptions): Promise<void> {
    return this.stepUps.otpCreate(options);
  }

  /**
   * Prove the current code step. The challenge moves on and `onChallenge` is told; after
   * the last step the session is refreshed with the grant before this resolves.
   */
  otpCheck(
    challengeId: string,
    code: string,
    onChallenge?: OnChallenge,
  ): Promise<StepUpOtpCheckResponse> {
    return this.stepUps.otpCheck(challengeId, code, onChallenge);
  }

  /** Send the step's code again (the server enforces a cooldown). */
  otpRetry(): Promise<void> {
    return this.stepUps.otpRetry();
  }

  /** Prove the current password step, `verify_password` (sessile only); as `otpCheck`. */
  passwordCheck(
    challengeId: string,
    password: string,
    onChallenge?: OnChallenge,
  ): Promise<StepUpPasswordCheckResponse> {
    return this.stepUps.passwordCheck(challengeId, password, onChallenge);
  }

  /**
   * Move past the app's own step with the verification token its backend signed (its
   * `challenge_id` names the challenge); as `otpCheck` otherwise.
   */
  continueStepUp(
    verificationToken: string,
    onChallenge?: OnChallenge,
  ): Promise<StepUpContinueResponse> {
    return this.stepUps.continue(verificationToken, onChallenge);
  }

  /** The user behind this session (`GET /me`): identifiers, profile, the session's scope. */
  async getUser(): Promise<JsonObject> {
    return this.bearerCall<JsonObject>({ method: "GET", path: "/me" });
  }

  /** The user's e-mail addresses and phone numbers (`GET /me/identifiers`). */
  async listIdentifiers(): Promise<IdentifierList> {
    return this.bearerCall<IdentifierList>({ method: "GET", path: "/me/identifiers" });
  }

  /**
   * Set a new password, with `prld:pwd:write` from a step-up. The change spends the grant
   * (a second one is `insufficient_scope`), so the cached token is dropped and refreshed,
   * as far as that goes, without the scope. The call carries a DPoP proof by the session's
   * key, so that the server can tell it from a leaked token's.
   */
  async resetPassword(options: ResetPasswordOptions): Promise<void> {
    await this.bearerCall({
      method: "POST",
      path: "/me/password/reset",
      body: { password: options.password },
      headers: this.sessionProof,
    });
    await this.invalidateCache();
    // Best effort: the change is made, and the next refresh() tries again anyway.
    await this.refresh().catch(() => undefined);
  }

  /**
   * Remove an e-mail address or phone number, never the last one. It needs the type's
   * register scope (`prld:email:register`, `prld:phone:register`) still granted to this
   * session, as it is for a while after adding one, and a DPoP proof by the session's key,
   * which this sends. The account's oldest proven identifier goes only with a grant whose
   * code went to it: `requestStepUp` for the register scope with that very identifier as
   * `metadata.identifier` (`insufficient_scope` otherwise).
   */
  async removeIdentifier(identifier: Identifier): Promise<void> {
    await this.bearerCall({
      method: "POST",
      path: "/me/identifiers/remove",
      body: { identifier: { type: identifier.type, value: identifier.value } },
      headers: this.sessionProof,
    });
  }

  /** Stop listening to the other tabs. The client still works, alone. */
  close(): void {
    this.tabs.close();
  }

  /** A refresh that redeems a completed step-up: never from the cache or another tab. */
  private async refreshWithStepUp(token: string): Promise<SessionResult> {
    return this.tabs.withRefreshLock(() => this.rotate({ step_up_token: token }));
  }

  /** `/refresh` itself; the new token goes to the waiting tabs through the handoff. */
  private async rotate(body?: unknown): Promise<SessionResult> {
    const signedIn = this.signIn(await this.dpopCall<TokenResponse>("/refresh", body));
    const latest = this.cache.latest();
    if (latest) await this.handoff.write({ token: latest, nonce: this.signer.nonce });
    return signedIn;
  }

  private async finalize(path: string, options: PasswordLoginOptions): Promise<SessionResult> {
    const { data } = await this.transport.send<{ challenge_token: string }>({
      method: "POST",
      path,
      body: { identifier: options.identifier, password: options.password },
    });
    return this.redeem(data.challenge_token);
  }

  /** Trade a challenge token for the session, bound to this client's key. */
  private async redeem(challengeToken: string): Promise<SessionResult> {
    const tokens = await this.dpopCall<TokenResponse>("/login/finalize", {
      challenge_token: challengeToken,
    });
    return this.signIn(tokens);
  }

  /** A DPoP call, retried once with the server's nonce when it asks for one (RFC 9449 §8). */
  private async dpopCall<T>(path: string, body?: unknown): Promise<T> {
    const request: ApiRequest = {
      method: "POST",
      path,
      body,
      headers: async (method, url) => ({ DPoP: await this.signer.proof(method, url) }),
    };
    try {
      return (await this.transport.send<T>(request)).data;
    } catch (error) {
      if (!(error instanceof SessileError) || error.code !== "use_dpop_nonce") throw error;
      return (await this.transport.send<T>(request)).data;
    }
  }

  /** The `DPoP` header of a session proof: a new one per attempt, with the latest nonce. */
  private readonly sessionProof = async (
    method: string,
    url: string,
  ): Promise<Record<string, string>> => ({ DPoP: await this.signer.proof(method, url) });

  /**
   * A Bearer call; when the call itself gets a 401, one forced refresh and one retry. One
   * that carries a proof is first sent again once with the server's nonce, if it asks.
   */
  private async bearerCall<T>(request: ApiRequest): Promise<T> {
    const send = async (accessToken: string): Promise<T> => {
      const auth = { Authorization: `Bearer ${accessToken}` };
      const headers = async (method: string, url: string): Promise<Record<string, string>> => ({
        ...(request.headers ? await request.headers(method, url) : {}),
        ...auth,
      });
      try {
        return (await this.transport.send<T>({ ...request, headers })).data;
      } catch (error) {
        const askedNonce = error instanceof SessileError && error.code === "use_dpop_nonce";
        if (!request.headers || !askedNonce) throw error;
        return (await this.transport.send<T>({ ...request, headers })).data;
      }
    };
    const { user } = await this.refresh();
    try {
      return await send(user.accessToken);
    } catch (error) {
      if (!(error instanceof SessileError) || error.status !== 401) throw error;
    }
    await this.invalidateCache();
    return send((await this.refresh()).user.accessToken);
  }

  private signIn(tokens: TokenResponse): SessionResult {
    if (typeof tokens?.access_token !== "string" || typeof tokens.expires_at !== "number") {
      throw new SessileError("internal", 200, "The server answered without an access token.");
    }
    const token: CachedToken = {
      accessToken: tokens.access_token,
      expiresAt: tokens.expires_at,
      obtainedAt: Date.now(),
    };
    const result = toResult(token);
    this.cache.put(token);
    this.invalidatedAt = -Infinity;
    this.tabs.announceToken(token, this.signer.nonce);
    return result;
  }

  /** A token another tab got from the server after `since`, still fresh for this tab. */
  private async handedOff(since: number): Promise<CachedToken | undefined> {
    const handed = await this.handoff.read();
    if (!handed || handed.token.obtainedAt <= since) return undefined;
    this.signer.adopt(handed.nonce);
    this.cache.put(handed.token, false);
    return this.cache.fresh(this.invalidatedAt);
  }

  private forget(): void {
    this.stepUps.clear();
    this.cache.clear();
    this.tabs.announceLogout();
    void this.handoff.write(undefined);
  }

  private onTabMessage(message: TabMessage): void {
    if (message.type === "token") {
      this.signer.adopt(message.nonce);
      this.cache.put(message.token, false);
    } else {
      this.cache.clear(false);
      this.stepUps.clear();
    }
  }
}

function baseUrl(options: SessionClientOptions): string {
  const url = options.url ?? (options.domain ? `https://${options.domain}` : undefined);
  if (!url) throw new TypeError("SessionClient needs a url (or a domain).");
  return url.replace(/\/+$/, "");
}

function toResult(token: CachedToken): SessionResult {
  return { user: { accessToken: token.accessToken, profile: decode(token.accessToken).claims } };
}
