import { useState, type FormEvent } from "react";

import { client, describe } from "./client.ts";
import { StepUp } from "./StepUp.tsx";
import { useContact } from "./useContact.ts";

/** A new password, behind a step-up for `prld:pwd:write`. */
export function ChangePassword() {
  const contact = useContact();
  const [granted, setGranted] = useState(false);
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const save = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    client
      .account<{ revoked_sessions: number }>("/password/reset", { password })
      .then(({ revoked_sessions }) =>
        setDone(
          `Password changed; ${revoked_sessions} other session(s) ended.`,
        ),
      )
      .catch((err: unknown) => setError(describe(err)))
      .finally(() => setBusy(false));
  };

  return (
    <>
      <h1>Change password</h1>
      {!granted ? (
        <StepUp
          scope="prld:pwd:write"
          contact={contact}
          onGranted={() => setGranted(true)}
        />
      ) : done ? (
        <p data-testid="password-done">{done}</p>
      ) : (
        <form onSubmit={save} data-testid="new-password-form">
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
          {error && (
            <p className="error" role="alert" data-testid="password-error">
              {error}
            </p>
          )}
          <button
            type="submit"
            data-testid="save-password"
            aria-busy={busy}
            disabled={busy}
          >
            Save
          </button>
        </form>
      )}
    </>
  );
}
