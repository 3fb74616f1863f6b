import { useState, type FormEvent } from "react";

import { client } from "./client.ts";
import { StepUpError, StepUpSteps, useStepUp } from "./StepUp.tsx";
import { useIdentifiers } from "./useIdentifiers.ts";
import { useTask } from "./useTask.ts";

const SCOPE = "prld:pwd:write";

/**
 * A new password, as Prelude's guide writes it: `requestStepUp` for `prld:pwd:write`, the
 * code step (`otpCreate`, `otpCheck`), after which the session carries the scope, then
 * `resetPassword`, which spends it.
 */
export function ChangePassword() {
  const { identifiers } = useIdentifiers();
  const [granted, setGranted] = useState(false);
  const stepUp = useStepUp(() => setGranted(true));
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const save = useTask();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run(async () => {
      await client.resetPassword({ password });
      setDone(true);
    });
  };

  if (done) {
    return (
      <>
        <h1>Change password</h1>
        <p data-testid="password-done">
          Password changed. The permission to change it is spent: another change
          needs a new confirmation.
        </p>
      </>
    );
  }

  return (
    <>
      <h1>Change password</h1>
      {granted ? (
        <form onSubmit={submit} data-testid="new-password-form">
          <label>
            New password
            <input
              data-testid="new-password"
              type="password"
              autoComplete="new-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          {save.error && (
            <p className="error" role="alert" data-testid="password-error">
              {save.error}
            </p>
          )}
          <button
            type="submit"
            data-testid="save-password"
            aria-busy={save.busy}
            disabled={save.busy}
          >
            Save
          </button>
        </form>
      ) : stepUp.info ? (
        <StepUpSteps stepUp={stepUp} identifiers={identifiers} />
      ) : (
        <section data-testid="stepup">
          <p>
            For this change, prove it is you again (scope <code>{SCOPE}</code>
            ).
          </p>
          <StepUpError stepUp={stepUp} />
          <button
            data-testid="stepup-start"
            aria-busy={stepUp.busy}
            disabled={stepUp.busy}
            onClick={() => stepUp.start(SCOPE)}
          >
            Confirm it&apos;s me
          </button>
        </section>
      )}
    </>
  );
}
