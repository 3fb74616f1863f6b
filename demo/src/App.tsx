import { useEffect, useState } from "react";
import type { User } from "sessile";

import { client, describe, isSignedOut } from "./client.ts";
import { ChangePassword } from "./ChangePassword.tsx";
import { Identifiers } from "./Identifiers.tsx";
import { Login } from "./Login.tsx";
import { OAuthCallback, oauthCallbackParams } from "./OAuth.tsx";
import { Sessions } from "./Sessions.tsx";
import { Token } from "./Token.tsx";

type Page = "token" | "sessions" | "password" | "identifiers";

const PAGES: Record<string, Page> = {
  "#/sessions": "sessions",
  "#/password": "password",
  "#/identifiers": "identifiers",
};

function pageOf(hash: string): Page {
  return PAGES[hash] ?? "token";
}

export function App() {
  const [user, setUser] = useState<User | null>(null);
  const [loading, setLoading] = useState(true);
  const [page, setPage] = useState<Page>(() => pageOf(location.hash));
  const [notice, setNotice] = useState<string | null>(null);
  const [oauthParams, setOAuthParams] = useState(oauthCallbackParams);

  useEffect(() => {
    // A reload keeps the session: the refresh cookie and the DPoP key survive it.
    client
      .refresh()
      .then(({ user }) => setUser(user))
      .catch((error: unknown) => {
        if (!isSignedOut(error)) setNotice(describe(error));
      })
      .finally(() => setLoading(false));
    const onHash = () => setPage(pageOf(location.hash));
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  const signedOut = (message: string | null = null) => {
    setUser(null);
    setNotice(message);
  };

  if (loading) {
    return (
      <main className="container">
        <p aria-busy="true">Loading…</p>
      </main>
    );
  }

  if (!user && oauthParams) {
    return (
      <main className="container">
        <OAuthCallback
          params={oauthParams}
          onLogin={(user) => {
            setOAuthParams(null);
            setNotice(null);
            setUser(user);
          }}
        />
      </main>
    );
  }

  if (!user) {
    return (
      <main className="container">
        {notice && (
          <p className="error" role="alert" data-testid="notice">
            {notice}
          </p>
        )}
        <Login
          onLogin={(user) => {
            setNotice(null);
            setUser(user);
          }}
        />
      </main>
    );
  }

  return (
    <main className="container">
      <nav>
        <ul>
          <li>
            <strong>sessile</strong>
          </li>
        </ul>
        <ul>
          <li>
            <a
              href="#/"
              data-testid="nav-token"
              aria-current={page === "token" ? "page" : undefined}
            >
              Logged in
            </a>
          </li>
          <li>
            <a
              href="#/sessions"
              data-testid="nav-sessions"
              aria-current={page === "sessions" ? "page" : undefined}
            >
              Sessions
            </a>
          </li>
          <li>
            <a
              href="#/password"
              data-testid="nav-password"
              aria-current={page === "password" ? "page" : undefined}
            >
              Change password
            </a>
          </li>
          <li>
            <a
              href="#/identifiers"
              data-testid="nav-identifiers"
              aria-current={page === "identifiers" ? "page" : undefined}
            >
              Identifiers
            </a>
          </li>
        </ul>
      </nav>
      {page === "token" && (
        <Token user={user} onUser={setUser} onSignedOut={signedOut} />
      )}
      {page === "sessions" && <Sessions user={user} onSignedOut={signedOut} />}
      {page === "password" && <ChangePassword />}
      {page === "identifiers" && <Identifiers />}
    </main>
  );
}
