import { useState, type FormEvent } from "react";
import type { IdentifierInfo, OnChallenge, StepUpChallengeInfo } from "sessile";

import { client } from "./client.ts";
import { CodeForm } from "./CodeForm.tsx";
import { DevOutbox } from "./DevOutbox.tsx";
import { useTask } from "./useTask.ts";

/** The code steps, and the type of identifier each one's code goes to. */
function codeType(step: string): IdentifierInfo["type"] | undefined {
  if (step === "verify_email") return "email_address";
  if (step === "verify_sms") return "phone_number";
  return undefined;
}

/**
 * A step-up as Prelude's guides run it: `requestStepUp` for a scope; for a code step,
 * `otpCreate` sends the code and `otpCheck` proves it (`passwordCheck` for the password
 * step); each answer moves the challenge on. When it reads `completed` the SDK has
 * refreshed the session with the grant, and `onGranted` is told.
 */
export function useStepUp(onGranted: (info: StepUpChallengeInfo) => void) {
  const [info, setInfo] = useState<StepUpChallengeInfo | null>(null);
  /** Bumped by each code sent, so the development outbox looks again. */
  const [sent, setSent] = useState(0);
  const [sentStep, setSentStep] = useState<string | null>(null);
  const task = useTask();

  const sendCode = async (challenge: StepUpChallengeInfo) => {
    await client.otpCreate({ challengeId: challenge.challengeId });
    setSentStep(`${challenge.challengeId}:${challenge.currentStep}`);
    setSent((n) => n + 1);
  };

  /** Run one SDK call, then act on where it left the challenge. */
  const follow = async (call: (onChallenge: OnChallenge) => Promise<void>) => {
    const seen: StepUpChallengeInfo[] = [];
    await call((next) => seen.push(next));
    const latest = seen.at(-1);
    if (!latest) return;
    setInfo(latest);
    if (latest.currentStep === "completed") onGranted(latest);
    else if (codeType(latest.currentStep)) await sendCode(latest);
  };

  const start = (scope: string, metadata?: Record<string, string>) =>
    void task.run(() =>
      follow(async (onChallenge) => {
        const answer = await client.requestStepUp({
          scope,
          ...(metadata ? { metadata } : {}),
          onChallenge,
        });
        if (answer.status === "block")
          throw new Error("This change is blocked for now.");
      }),
    );

  /** Prove the current step; true when it was. */
  const prove = async (secret: string) => {
    let proven = false;
    await task.run(() =>
      follow(async (onChallenge) => {
        if (!info) return;
        if (info.currentStep === "verify_password")
          await client.passwordCheck(info.challengeId, secret, onChallenge);
        else
          await client.otpCheck(info.challengeId, secret.trim(), onChallenge);
        proven = true;
      }),
    );
    return proven;
  };

  const resend = () =>
    void task.run(async () => {
      if (!info) return;
      // The first send may have failed: then there is nothing to resend yet.
      if (sentStep === `${info.challengeId}:${info.currentStep}`) {
        await client.otpRetry();
        setSent((n) => n + 1);
      } else await sendCode(info);
    });

  return { info, sent, start, prove, resend, ...task };
}

export type StepUp = ReturnType<typeof useStepUp>;

/** Where the current code step's code goes: the new identifier, or the user's own. */
function codeTo(info: StepUpChallengeInfo, identifiers: IdentifierInfo[]) {
  const added = info.metadata?.identifier;
  if (typeof added === "string") return added;
  const type = codeType(info.currentStep);
  return (
    identifiers
      .filter((i) => i.verified && i.type === type)
      .map((i) => i.value)
      .sort()[0] ?? ""
  );
}

/** The error of the last step-up action, if any. */
export function StepUpError({ stepUp }: { stepUp: StepUp }) {
  return (
    stepUp.error && (
      <p className="error" role="alert" data-testid="stepup-error">
        {stepUp.error}
      </p>
    )
  );
}

/** The challenge's current step: a code (sent already), the password, or the app's own. */
export function StepUpSteps({
  stepUp,
  identifiers,
}: {
  stepUp: StepUp;
  identifiers: IdentifierInfo[];
}) {
  const [secret, setSecret] = useState("");
  const { info, busy } = stepUp;
  if (!info || info.currentStep === "completed") return null;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void stepUp.prove(secret).then((proven) => proven && setSecret(""));
  };

  const step = info.steps.find((s) => s.key === info.currentStep);
  const isCode = codeType(info.currentStep) !== undefined;
  const isPassword = info.currentStep === "verify_password";
  const to = isCode ? codeTo(info, identifiers) : "";
  return (
    <section data-testid="stepup">
      <p>
        Step {step?.order ?? "?"} of {info.steps.length}:{" "}
        <strong data-testid="stepup-step">{info.currentStep}</strong>
      </p>
      {isCode || isPassword ? (
        <CodeForm
          testIds={{ input: "stepup-secret", submit: "stepup-verify" }}
          label={isCode ? `Code sent to ${to || "you"}` : "Your password"}
          password={isPassword}
          value={secret}
          onChange={setSecret}
          onSubmit={submit}
          busy={busy}
          feedback={<StepUpError stepUp={stepUp} />}
          actions={
            isCode && (
              <button
                type="button"
                className="secondary"
                data-testid="stepup-resend"
                disabled={busy}
                onClick={stepUp.resend}
              >
                Send a new code
              </button>
            )
          }
        >
          {isCode && <DevOutbox identifier={to} version={stepUp.sent} />}
        </CodeForm>
      ) : (
        <p data-testid="stepup-custom">
          This step is proven by the app&apos;s own backend (a verification
          token for <code>continueStepUp</code>), which this demo does not have.
        </p>
      )}
    </section>
  );
}
