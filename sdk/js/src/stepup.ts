/**
 * Step-up (DESIGN §12), with Prelude's call shapes: ask for a scope, prove each step
 * (a code, or the password), continue past it, and, when the challenge completes, refresh
 * with it so the session's next access tokens carry the scope. Challenge tokens are kept
 * in memory by challenge id, as Prelude's SDK keeps them in localStorage.
 */

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

export interface StepUpChallengeInfo {
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
  metadata?: Record<string, string>;
  onChallenge?: OnChallenge;
}

export interface StepUpRequestResponse {
  status: StepUpGrantStatus;
  challenge_token?: string;
}

/** A step's answer: the next challenge token, and the proof that the step is done. */
export interface StepUpStepResponse {
  challenge_token: string;
  verification_token: string;
}

export interface StepUpContinueResponse {
  challenge_token: string;
}

export interface StepUpOtpCreateOptions {
  challengeId: string;
}

/** What the flow needs from the client that owns it. */
export interface StepUpHost {
  send<T>(request: ApiRequest): Promise<T>;
  bearer<T>(request: ApiRequest): Promise<T>;
  proof(method: string, url: string, jti: string): Promise<string>;
  /** Refresh with a completed challenge, bypassing the cache. */
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

export class StepUpFlow {
  private readonly challenges = new Map<string, string>();

  constructor(private readonly host: StepUpHost) {}

  async request(options: StepUpRequestOptions): Promise<StepUpRequestResponse> {
    const body: Record<string, unknown> = { scope: options.scope };
    if (options.metadata !== undefined) body.metadata = options.metadata;
    const answer = await this.host.bearer<StepUpRequestResponse>({
      method: "POST",
      path: "/stepup/request",
      body,
    });
    if (answer.status !== "block" && answer.challenge_token) {
      await this.process(answer.challenge_token, options.onChallenge);
    }
    return answer;
  }

  async otpCreate(options: StepUpOtpCreateOptions): Promise<void> {
    const token = this.cached(options.challengeId);
    await this.host.send({ method: "POST", path: "/otp", body: { challenge_token: token } });
  }

  async otpRetry(): Promise<void> {
    await this.host.send({ method: "POST", path: "/otp/retry" });
  }

  async otpCheck(
    challengeId: string,
    code: string,
    onChallenge?: OnChallenge,
  ): Promise<StepUpStepResponse> {
    return this.step(challengeId, "/otp/check", { code }, onChallenge);
  }

  /** sessile's password step (Prelude's SDK has no call for it). */
  async passwordCheck(
    challengeId: string,
    password: string,
    onChallenge?: OnChallenge,
  ): Promise<StepUpStepResponse> {
    return this.step(challengeId, "/stepup/password", { password }, onChallenge);
  }

  async continue(
    verificationToken: string,
    onChallenge?: OnChallenge,
  ): Promise<StepUpContinueResponse> {
    const challengeId = claimText(decode(verificationToken).claims, "challenge_id");
    const token = this.cached(challengeId);
    const answer = await this.host.bearer<StepUpContinueResponse>({
      method: "POST",
      path: "/stepup/continue",
      body: { challenge_token: token, verification_token: verificationToken },
      headers: this.proofFor(token),
    });
    await this.process(answer.challenge_token, onChallenge);
    return answer;
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
  ): Promise<StepUpStepResponse> {
    const token = this.cached(challengeId);
    const answer = await this.host.send<StepUpStepResponse>({
      method: "POST",
      path,
      body: { ...fields, challenge_token: token },
      headers: this.proofFor(token),
    });
    await this.process(answer.challenge_token, onChallenge);
    return answer;
  }

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
        `No challenge token is kept for challenge ${challengeId}.`,
      );
    }
    return token;
  }

  private async process(token: string, onChallenge?: OnChallenge): Promise<void> {
    const claims = decode(token).claims;
    const id = String(claims.challenge_id);
    if (claims.current_step === "completed") {
      await this.host.redeem(token, id);
      this.challenges.delete(id);
    } else {
      this.challenges.set(id, token);
    }
    onChallenge?.(challengeInfo(claims));
  }
}
