import { useCallback, useEffect, useState } from "react";
import type { RevokeTarget, SessionInfo, User } from "sessile";

import { client, describe, isSignedOut } from "./client.ts";

interface Props {
  user: User;
  onSignedOut: (message?: string | null) => void;
}

function device(session: SessionInfo): string {
  return [session.device_type, session.device_model, session.os_version]
    .filter(Boolean)
    .join(" · ");
}

function when(timestamp: string): string {
  return new Date(timestamp).toLocaleString(undefined, {
    dateStyle: "short",
    timeStyle: "short",
  });
}

/** The user's sessions, with revocation of one, the others, this one, or all. */
export function Sessions({ user, onSignedOut }: Props) {
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const current = user.profile.sid;

  const failed = useCallback(
    (err: unknown) => {
      if (isSignedOut(err))
        onSignedOut("Your session has ended. Please log in again.");
      else setError(describe(err));
    },
    [onSignedOut],
  );

  const load = useCallback(
    () =>
      client
        .listSessions({ limit: 100 })
        .then(({ sessions }) => setSessions(sessions), failed),
    [failed],
  );

  useEffect(() => {
    void load();
  }, [load]);

  const revoke = async (target: RevokeTarget, sessionId?: string) => {
    setError(null);
    try {
      await client.revokeSessions(target, sessionId);
      const mine =
        target === "all" || target === "mine" || sessionId === current;
      if (mine) onSignedOut("This session was revoked.");
      else await load();
    } catch (err) {
      failed(err);
    }
  };

  return (
    <article data-testid="sessions">
      <header>Sessions</header>
      {error && (
        <p className="error" role="alert" data-testid="error">
          {error}
        </p>
      )}
      <div className="actions">
        <button
          data-testid="revoke-others"
          onClick={() => void revoke("others")}
        >
          Revoke Others
        </button>
        <button
          className="secondary"
          data-testid="revoke-mine"
          onClick={() => void revoke("mine")}
        >
          Revoke Mine
        </button>
        <button
          className="contrast"
          data-testid="revoke-all"
          onClick={() => void revoke("all")}
        >
          Revoke All
        </button>
      </div>
      {sessions === null ? (
        <p aria-busy="true">Loading sessions…</p>
      ) : (
        <div className="overflow-auto">
          <table className="striped">
            <thead>
              <tr>
                <th>Device</th>
                <th>Country</th>
                <th>Created</th>
                <th>Last seen</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              {sessions.map((session) => (
                <tr
                  key={session.id}
                  data-testid="session-row"
                  data-session-id={session.id}
                  data-current={session.id === current ? "true" : "false"}
                >
                  <td>
                    <span data-testid="session-device">
                      {device(session) || "-"}
                    </span>
                    {session.id === current && (
                      <mark className="current">this device</mark>
                    )}
                    <br />
                    <small>
                      <code>{session.id}</code>
                    </small>
                  </td>
                  <td>{session.country_code || "-"}</td>
                  <td>{when(session.created_at)}</td>
                  <td>{when(session.last_seen_at)}</td>
                  <td>
                    <button
                      className="outline"
                      data-testid="revoke-session"
                      onClick={() => void revoke("session", session.id)}
                    >
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </article>
  );
}
