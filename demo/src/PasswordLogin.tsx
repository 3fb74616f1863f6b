import { useState, type FormEvent } from "react";
import type { PasswordValidation, User } from "sessile";

import { client, describe } from "./client.ts";

const RULES: Record<string, string> = {
  min_length: "characters",
  max_length: "characters at most",
  uppercase: "uppercase letters",
  lowercase: "lowercase letters",
  numbers: "digits",
  symbols: "symbols",
};

interface PasswordProps {
  onLogin: (user: User) => void;
  /** A sign-up is waiting for the code sent to this address. */
  onCodeSent: (email: string) => void;
}

/** Log in, or sign up, with an e-mail address and a password. */
export function PasswordLogin({ onLogin, onCodeSent }: PasswordProps) {
  const [signUp, setSignUp] = useState(false);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [check, setCheck] = useState<PasswordValidation | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const onPassword = (value: string) => {
    setPassword(value);
    if (signUp)
      void client.validatePassword(value).then(setCheck, () => setCheck(null));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const options = { identifier: email.trim(), password };
      if (!signUp) {
        onLogin((await client.loginWithPassword(options)).user);
        return;
      }
      const answer = await client.signUpWithEmail(options);
      if (answer.status === "otp_required") onCodeSent(options.identifier);
      else onLogin(answer.user);
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };

  const missing = signUp ? (check?.results.filter((r) => !r.valid) ?? []) : [];
  return (
    <form onSubmit={(e) => void submit(e)} data-testid="password-form">
      <label>
        Email address
        <input
          data-testid="email"
          name="email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
      </label>
      <label>
        Password
        <input
          data-testid="password"
          name="password"
          type="password"
          autoComplete={signUp ? "new-password" : "current-password"}
          required
          value={password}
          aria-invalid={signUp && check ? !check.valid : undefined}
          onChange={(e) => onPassword(e.target.value)}
        />
        {missing.length > 0 && (
          <small data-testid="password-rules">
            Needs{" "}
            {missing
              .map(
                (r) =>
                  `${r.expected} ${RULES[r.criteria] ?? r.criteria} (has ${r.actual})`,
              )
              .join(", ")}
          </small>
        )}
      </label>
      {error && (
        <p className="error" role="alert" data-testid="error">
          {error}
        </p>
      )}
      <button
        type="submit"
        data-testid="password-submit"
        aria-busy={busy}
        disabled={busy}
      >
        {signUp ? "Sign up" : "Log in"}
      </button>
      <p>
        <small>
          {signUp ? "Already have an account? " : "No account yet? "}
          <a
            href="#"
            data-testid="toggle-sign-up"
            onClick={(e) => {
              e.preventDefault();
              setSignUp(!signUp);
              setCheck(null);
              setError(null);
            }}
          >
            {signUp ? "Log in" : "Sign up"}
          </a>
        </small>
      </p>
    </form>
  );
}
