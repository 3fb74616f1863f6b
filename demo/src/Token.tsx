import { useState } from "react";
import { decode, type User } from "sessile";

import { client, describe, isSignedOut } from "./client.ts";

interface Props {
  user: User;
  onUser: (user: User) => void;
  onSignedOut: (message?: string | null) => void;
}

/** The "Logged in" page: the access token's claims, a forced refresh, and logout. */
export function Token({ user, onUser, onSignedOut }: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const refresh = async () => {
    setBusy(true);
    setError(null);
    try {
      await client.invalidateCache();
      onUser((await client.refresh()).user);
    } catch (err) {
      if (isSignedOut(err))
        onSignedOut("Your session has ended. Please log in again.");
      else setError(describe(err));
    } finally {
      setBusy(false);
    }
  };

  const logout = async () => {
    setBusy(true);
    try {
      await client.logout();
    } catch {
      // The session is forgotten here even if the server could not be told.
    }
    onSignedOut();
  };

  return (
    <article data-testid="logged-in">
      <header>Logged in</header>
      <pre className="claims" data-testid="claims">
        {JSON.stringify(decode(user.accessToken).claims, null, 2)}
      </pre>
      {error && (
        <p className="error" role="alert" data-testid="error">
          {error}
        </p>
      )}
      <div className="actions">
        <button
          data-testid="refresh"
          aria-busy={busy}
          disabled={busy}
          onClick={() => void refresh()}
        >
          Refresh Token
        </button>
        <button
          className="secondary"
          data-testid="logout"
          disabled={busy}
          onClick={() => void logout()}
        >
          Log Out
        </button>
      </div>
    </article>
  );
}
