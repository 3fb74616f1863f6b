/**
 * Step-up (DESIGN §12), as Prelude's SDK runs it: ask for a scope, prove each step (a code
 * sent by `/otp` and checked by `/otp/check`, the password, or the app's own step through
 * `/stepup/continue`), each answer being the challenge moved on; when it reads `completed`,
 * refresh with it so the session's next access tokens carry the scope. Challenge tokens are
 * kept by challenge id until their `exp`, as Prelude's SDK keeps them in localStorage.
 */

import type { TokenStorage } from "./cache.js";
import type { ServerClock } from "./clock.js";
import { SessileError } from "./errors.js";
import type { ApiRequest } from "./http.js";
import { decode, type JsonObject } from "./jwt.js";
import { MissingChallengeTokenError } from "./prld-errors.js";

export type StepUpGrantStatus = "continue" | "review" | "block";

export interface StepUpChallengeStep {
  order: number;
  expirationDuration: number;
  key: string;
  done: boolean;
}

/** What `onChallenge` is told after each move of a challenge, `completed` included. */
export interface StepUpChallengeInfo {
  /** The step to prove now (`verify_email`, `verify_sms`, `verify_password`, an app's own key), or `completed`. */
  currentStep: string;
  scopeRequested: string;
  userId: string;
  sessionId: string;
  challengeId: string;
  steps: StepUpChallengeStep[];
  metadata?: Record<string, unknown>;
}

export type OnChallenge = (info: StepUpChallengeInfo) => void;

export interface StepUpRequestOptions {
  scope: string;
  /** Up to 5 strings; the register scopes take the new address or phone as `identifier`. */
  metadata?: Record<string, string>;
  onChallenge?: OnChallenge;
}

export interface StepUpRequestResponse {
  status: StepUpGrantStatus;
  challenge_token?: string;
}

export interface StepUpOtpCreateOptions {
  challengeId: string;
  dispatchId?: string;
}

/** A proven code step: the challenge token moved on (`completed` after the last step). */
export interface StepUpOtpCheckResponse {
  challenge_token: string;
}

/** A proven password step (sessile's `verify_password`). */
export type StepUpPasswordCheckResponse = StepUpOtpCheckResponse;

/** An app's own step, continued past with its backend's verification token. */
export interface StepUpContinueResponse {
  challenge_token: string;
}

/** What the flow needs from the client that owns it. */
export interface StepUpHost {
  send<T>(request: ApiRequest): Promise<T>;
  bearer<T>(request: ApiRequest): Promise<T>;
  proof(method: string, url: string, jti: string): Promise<string>;
  /** Invalidate the cache, then refresh with a completed challenge (which forgets it). */
  redeem(token: string, id: string): Promise<unknown>;
}

function claimText(claims: JsonObject, name: string): string {
  const value = claims[name];
  return typeof value === "string" ? value : "";
}

function challengeInfo(claims: JsonObject): StepUpChallengeInfo {
  const steps = Array.isArray(claims.steps) ? (claims.steps as JsonObject[]) : [];
  const info: StepUpChallengeInfo = {
    currentStep: String(claims.current_step),
    scopeRequested: String(claims.scope_requested),
    userId: String(claims.sub),
    sessionId: String(claims.sid),
    challengeId: String(claims.challenge_id),
    steps: steps.map((step) => ({
      order: Number(step.order),
      expirationDuration: Number(step.expiration_duration),
      key: String(step.key),
      done: step.done === true,
    })),
  };
  if (typeof claims.metadata === "object" && claims.metadata !== null) {
    info.metadata = claims.metadata as Record<string, unknown>;
  }
  return info;
}

interface CachedChallenge {
  token: string;
  /** The token's `exp`: Unix seconds on the server's clock. */
  expiresAt: number;
}

function parseChallenges(raw: string | null): Map<string, CachedChallenge> | undefined {
  if (raw === null) return undefined;
  try {
    const value = JSON.parse(raw) as Record<string, Partial<CachedChallenge>>;
    const entries = new Map<string, CachedChallenge>();
    for (const [id, entry] of Object.entries(value)) {
      if (typeof entry.token === "string" && typeof entry.expiresAt === "number") {
        entries.set(id, { token: entry.token, expiresAt: entry.expiresAt });
      }
    }
    return entries;
  } catch {
    return undefined; // A corrupt entry is no entry.
  }
}

/**
 * The pending challenges' tokens by challenge id, each until its `exp` on the server's
 * clock: in memory, and in the client's `storage` when it has one, so that a reload in the
 * middle of a step-up carries on.
 */
export class ChallengeCache {
  private memory = new Map<string, CachedChallenge>();
  private readonly key: string;

  constructor(
    url: string,
    private readonly clock: ServerClock,
    private readonly storage: TokenStorage | undefined,
  ) {
    this.key = `sessile.stepup:${url}`;
  }

  get(challengeId: string): string | undefined {
    return this.live().get(challengeId)?.token;
  }

  put(challengeId: string, token: string, expiresAt: number): void {
    const entries = this.live();
    entries.set(challengeId, { token, expiresAt });
    this.write(entries);
  }

  delete(challengeId: string): void {
    const entries = this.live();
    if (entries.delete(challengeId)) this.write(entries);
  }

  clear(): void {
    this.write(new Map());
  }

  /** The entries not yet expired; the expired ones are dropped. */
  private live(): Map<string, CachedChallenge> {
    const entries = this.read();
    const now = this.clock.now();
    let dropped = false;
    for (const [id, entry] of entries) {
      if (!(entry.expiresAt * 1000 > now)) {
        entries.delete(id);
        dropped = true;
      }
    }
    if (dropped) this.write(entries);
    return entries;
  }

  private read(): Map<string, CachedChallenge> {
    try {
      const stored = this.storage ? parseChallenges(this.storage.getItem(this.key)) : undefined;
      if (stored) this.memory = stored;
    } catch {
      // Storage can throw (quota, disabled cookies); the memory copy still works.
    }
    return new Map(this.memory);
  }

  private write(entries: Map<string, CachedChallenge>): void {
    this.memory = new Map(entries);
    try {
      if (entries.size === 0) this.storage?.removeItem(this.key);
      else this.storage?.setItem(this.key, JSON.stringify(Object.fromEntries(entries)));
    } catch {
      // See read.
    }
  }
}

export class StepUpFlow {
  constructor(
    private readonly host: StepUpHost,
    private readonly challenges: ChallengeCache,
  ) {}

  async request(options: StepUpRequestOptions): Promise<StepUpRequestResponse> {
    const body: Record<string, unknown> = { scope: options.scope };
    if (options.metadata !== undefined) body.metadata = options.metadata;
    const answer = await this.host.bearer<StepUpRequestResponse | undefined>({
      method: "POST",
      path: "/stepup/request",
      body,
    });
    if (typeof answer?.status !== "string") {
      throw new SessileError("internal", 200, "/stepup/request answered without a status.");
    }
    if ((answer.status === "continue" || answer.status === "review") && answer.challenge_token) {
      await this.process(answer.challenge_token, options.onChallenge);
    }
    return answer;
  }

  async otpCreate(options: StepUpOtpCreateOptions): Promise<void> {
    const body: Record<string, unknown> = { challenge_token: this.cached(options.challengeId) };
    if (options.dispatchId !== undefined) body.dispatch_id = options.dispatchId;
    await this.host.send({ method: "POST", path: "/otp", body });
  }

  async otpRetry(): Promise<void> {
    await this.host.send({ method: "POST", path: "/otp/retry" });
  }

  async otpCheck(
    challengeId: string,
    code: string,
    onChallenge?: OnChallenge,
  ): Promise<StepUpOtpCheckResponse> {
    return this.step(challengeId, "/otp/check", { code }, onChallenge);
  }

  /** sessile's password step, `verify_password` (Prelude's SDK has no call for it). */
  async passwordCheck(
    challengeId: string,
    password: string,
    onChallenge?: OnChallenge,
  ): Promise<StepUpPasswordCheckResponse> {
    return this.step(challengeId, "/stepup/password", { password }, onChallenge);
  }

  async continue(
    verificationToken: string,
    onChallenge?: OnChallenge,
  ): Promise<StepUpContinueResponse> {
    const challengeId = claimText(decode(verificationToken).claims, "challenge_id");
    if (!challengeId) throw new TypeError("The verification token has no challenge_id claim.");
    const token = this.cached(challengeId);
    const answer = await this.host.bearer<StepUpContinueResponse>({
      method: "POST",
      path: "/stepup/continue",
      body: { challenge_token: token, verification_token: verificationToken },
      headers: this.proofFor(token),
    });
    await this.process(moved(answer, "/stepup/continue"), onChallenge);
    return answer;
  }

  /** Forget a challenge (once it is redeemed). */
  forget(challengeId: string): void {
    this.challenges.delete(challengeId);
  }

  /** Forget every pending challenge (on logout). */
  clear(): void {
    this.challenges.clear();
  }

  private async step(
    challengeId: string,
    path: string,
    fields: Record<string, string>,
    onChallenge?: OnChallenge,
  ): Promise<StepUpOtpCheckResponse> {
    const token = this.cached(challengeId);
    const answer = await this.host.send<StepUpOtpCheckResponse>({
      method: "POST",
      path,
      body: { ...fields, challenge_token: token },
      headers: this.proofFor(token),
    });
    await this.process(moved(answer, path), onChallenge);
    return answer;
  }

  /** The proof that binds a call to the challenge: the session's key, the token's `jti`. */
  private proofFor(token: string): NonNullable<ApiRequest["headers"]> {
    const jti = claimText(decode(token).claims, "jti");
    return async (method, url) => ({ DPoP: await this.host.proof(method, url, jti) });
  }

  private cached(challengeId: string): string {
    const token = this.challenges.get(challengeId);
    if (token === undefined) {
      throw new MissingChallengeTokenError(
        "missing_challenge_token",
        0,
        `No challenge token is kept for challenge ${challengeId} (unknown, finished or expired).`,
      );
    }
    return token;
  }

  /** Keep a challenge that has steps left, or redeem a completed one; then tell the app. */
  private async process(token: string, onChallenge?: OnChallenge): Promise<void> {
    const claims = decode(token).claims;
    const id = String(claims.challenge_id);
    if (claims.current_step === "completed") {
      await this.host.redeem(token, id);
      this.challenges.delete(id);
    } else {
      this.challenges.put(id, token, Number(claims.exp));
    }
    onChallenge?.(challengeInfo(claims));
  }
}

function moved(answer: { challenge_token?: unknown } | undefined, path: string): string {
  const token = answer?.challenge_token;
  if (typeof token !== "string" || token === "") {
    throw new SessileError("internal", 200, `${path} answered without a challenge token.`);
  }
  return token;
}
