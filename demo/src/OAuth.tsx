import { useEffect, useRef, useState, type FormEvent } from "react";
import type { OAuthCallbackParams, User } from "sessile";

import { client, describe } from "./client.ts";
import { CodeForm } from "./CodeForm.tsx";

/** The demo's callback page is its own root: sessile allows it when the demo is on. */
export const REDIRECT_URI = `${location.origin}/`;

const NAMES: Record<string, string> = {
  google: "Google",
  apple: "Apple",
  microsoft: "Microsoft",
  github: "GitHub",
  okta: "Okta",
};

/** The query sessile put on the demo's page after a social login, or null. */
export function oauthCallbackParams(): OAuthCallbackParams | null {
  const params = Object.fromEntries(
    new URLSearchParams(location.search),
  ) as OAuthCallbackParams;
  return params.challenge_token || params.error ? params : null;
}

/** "Continue with …" for each provider the server has configured. */
export function OAuthButtons() {
  const [providers, setProviders] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    fetch("/v1/session/login/oauth/providers")
      .then((r) =>
        r.ok
          ? (r.json() as Promise<{ providers: string[] }>)
          : { providers: [] },
      )
      .then((body) => setProviders(body.providers))
      .catch(() => setProviders([]));
  }, []);

  if (providers.length === 0) return null;
  return (
    <section data-testid="oauth">
      <hr />
      {providers.map((provider) => (
        <button
          key={provider}
          type="button"
          className="secondary"
          data-testid={`oauth-${provider}`}
          onClick={() => {
            setError(null);
            client
              .loginWithOAuth({ provider, redirectURI: REDIRECT_URI })
              .catch((err: unknown) => setError(describe(err)));
          }}
        >
          Continue with {NAMES[provider] ?? provider}
        </button>
      ))}
      {error && (
        <p className="error" role="alert" data-testid="oauth-error">
          {error}
        </p>
      )}
    </section>
  );
}

/**
 * Back from the provider: finish the login, or, when the provider's e-mail address must
 * be proven first, ask for the code sent to it.
 */
export function OAuthCallback({
  params,
  onLogin,
}: {
  params: OAuthCallbackParams;
  onLogin: (user: User) => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const [needsCode, setNeedsCode] = useState(false);
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const started = useRef(false);

  useEffect(() => {
    // StrictMode runs effects twice; the challenge token serves one finalize only.
    if (started.current) return;
    started.current = true;
    history.replaceState(null, "", "/");
    void (async () => {
      try {
        client.validateOAuthCallback(params);
        const result = await client.finalizeOAuthLogin(
          params.challenge_token ?? "",
        );
        if ("user" in result) onLogin(result.user);
        else setNeedsCode(true);
      } catch (err) {
        setError(describe(err));
      }
    })();
  }, [params, onLogin]);

  const check = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    client
      .checkOTP(code.trim())
      .then(({ user }) => onLogin(user))
      .catch((err: unknown) => setError(describe(err)))
      .finally(() => setBusy(false));
  };

  return (
    <>
      <h1>Signing in…</h1>
      {error && (
        <p className="error" role="alert" data-testid="oauth-error">
          {error} <a href="/">Start again</a>
        </p>
      )}
      {needsCode && (
        <CodeForm
          testIds={{ form: "oauth-code-form", input: "code", submit: "verify" }}
          prompt={
            <p>
              To link this sign-in, enter the code we sent to your e-mail
              address.
            </p>
          }
          label="Code"
          value={code}
          onChange={setCode}
          onSubmit={check}
          busy={busy}
        />
      )}
    </>
  );
}
