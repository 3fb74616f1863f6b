import { useState, type FormEvent } from "react";
import type { StepUpChallengeInfo } from "sessile";

import { client } from "./client.ts";
import { DevOutbox } from "./DevOutbox.tsx";
import { CodeForm } from "./CodeForm.tsx";
import { useTask } from "./useTask.ts";

/**
 * Prove yourself again for `scope`: request the step-up, then each step (a code by
 * e-mail or SMS, or the password), continuing past it. When the last step is done the
 * SDK refreshes the session with the grant, and `onGranted` runs.
 */
export function StepUp({
  scope,
  contact,
  onGranted,
}: {
  scope: string;
  /** Where codes go, to show them from the development outbox. */
  contact: string;
  onGranted: () => void;
}) {
  const [info, setInfo] = useState<StepUpChallengeInfo | null>(null);
  const [sent, setSent] = useState(false);
  const [secret, setSecret] = useState("");
  const { busy, error, setError, run } = useTask();
  const [outboxVersion, setOutboxVersion] = useState(0);

  const onChallenge = (next: StepUpChallengeInfo) => {
    setInfo(next);
    if (next.currentStep === "completed") onGranted();
  };

  const start = () =>
    void run(async () => {
      const answer = await client.requestStepUp({ scope, onChallenge });
      if (answer.status === "block")
        setError("This change is blocked for now.");
    });

  const sendCode = () =>
    void run(async () => {
      if (!info) return;
      await client.otpCreate({ challengeId: info.challengeId });
      setSent(true);
      setOutboxVersion((v) => v + 1);
    });

  const prove = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      if (!info) return;
      const proven =
        info.currentStep === "password"
          ? await client.passwordCheck(info.challengeId, secret)
          : await client.otpCheck(info.challengeId, secret.trim());
      setSecret("");
      setSent(false);
      await client.continueStepUp(proven.verification_token, onChallenge);
    });
  };

  const feedback = error && (
    <p className="error" role="alert" data-testid="stepup-error">
      {error}
    </p>
  );

  if (!info) {
    return (
      <section data-testid="stepup">
        <p>
          For this change, prove it is you again (scope <code>{scope}</code>).
        </p>
        {feedback}
        <button
          data-testid="stepup-start"
          aria-busy={busy}
          disabled={busy}
          onClick={start}
        >
          Confirm it's me
        </button>
      </section>
    );
  }

  const step = info.steps.find((s) => s.key === info.currentStep);
  const isCode = info.currentStep !== "password";
  return (
    <section data-testid="stepup">
      <p>
        Step {step?.order ?? "?"} of {info.steps.length}:{" "}
        <strong data-testid="stepup-step">{info.currentStep}</strong>
      </p>
      {isCode && !sent ? (
        <>
          {feedback}
          <button
            data-testid="stepup-send"
            aria-busy={busy}
            disabled={busy}
            onClick={sendCode}
          >
            Send me a code
          </button>
        </>
      ) : (
        <CodeForm
          testIds={{ input: "stepup-secret", submit: "stepup-verify" }}
          label={isCode ? "Code" : "Password"}
          password={!isCode}
          value={secret}
          onChange={setSecret}
          onSubmit={prove}
          busy={busy}
          feedback={feedback}
        />
      )}
      {isCode && <DevOutbox identifier={contact} version={outboxVersion} />}
    </section>
  );
}
