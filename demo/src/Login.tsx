import { useState, type FormEvent } from "react";
import type { Identifier, PasswordValidation, User } from "sessile";

import { client, describe } from "./client.ts";
import { DevOutbox } from "./DevOutbox.tsx";

type Method = "otp" | "password";

const RULES: Record<string, string> = {
  min_length: "characters",
  max_length: "characters at most",
  uppercase: "uppercase letters",
  lowercase: "lowercase letters",
  numbers: "digits",
  symbols: "symbols",
};

/** Log in by a one-time code (e-mail or phone) or by password, or sign up with a password. */
export function Login({ onLogin }: { onLogin: (user: User) => void }) {
  const [method, setMethod] = useState<Method>("otp");
  const [identifier, setIdentifier] = useState("");
  const [outboxVersion, setOutboxVersion] = useState(0);
  // A sign-up waits for the code sent to its address: the code form takes over.
  const [signUpPending, setSignUpPending] = useState(false);

  return (
    <>
      <h1>Log in</h1>
      <div role="group">
        <button
          data-testid="method-otp"
          aria-current={method === "otp"}
          className={method === "otp" ? "" : "outline"}
          onClick={() => setMethod("otp")}
        >
          One-time code
        </button>
        <button
          data-testid="method-password"
          aria-current={method === "password"}
          className={method === "password" ? "" : "outline"}
          onClick={() => setMethod("password")}
        >
          Password
        </button>
      </div>
      {method === "otp" ? (
        <OtpLogin
          key={signUpPending ? "sign-up" : "login"}
          initiallySent={signUpPending}
          identifier={identifier}
          onIdentifier={setIdentifier}
          onSent={() => setOutboxVersion((v) => v + 1)}
          onLogin={onLogin}
        />
      ) : (
        <PasswordLogin
          onLogin={onLogin}
          onCodeSent={(email) => {
            setIdentifier(email);
            setSignUpPending(true);
            setMethod("otp");
            setOutboxVersion((v) => v + 1);
          }}
        />
      )}
      {method === "otp" && (
        <DevOutbox identifier={identifier} version={outboxVersion} />
      )}
    </>
  );
}

interface OtpProps {
  /** The code is already on its way (a sign-up proving its address). */
  initiallySent?: boolean;
  identifier: string;
  onIdentifier: (value: string) => void;
  onSent: () => void;
  onLogin: (user: User) => void;
}

function OtpLogin({
  initiallySent = false,
  identifier,
  onIdentifier,
  onSent,
  onLogin,
}: OtpProps) {
  const [type, setType] = useState<Identifier["type"]>("email_address");
  const [sent, setSent] = useState(initiallySent);
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);

  const run = async (task: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setInfo(null);
    try {
      await task();
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };

  const start = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await client.startOTPLogin({
        identifier: { type, value: identifier.trim() },
      });
      setSent(true);
      onSent();
    });
  };

  const check = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => onLogin((await client.checkOTP(code.trim())).user));
  };

  const resend = () =>
    void run(async () => {
      await client.retryOTP();
      setInfo("A new code is on its way.");
      onSent();
    });

  const feedback = (
    <>
      {error && (
        <p className="error" role="alert" data-testid="error">
          {error}
        </p>
      )}
      {info && <p data-testid="info">{info}</p>}
    </>
  );

  if (sent) {
    return (
      <form onSubmit={check} data-testid="code-form">
        <p>
          We sent a code to <strong>{identifier}</strong>.
        </p>
        <label>
          Code
          <input
            data-testid="code"
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
        </label>
        {feedback}
        <div className="actions">
          <button
            type="submit"
            data-testid="verify"
            aria-busy={busy}
            disabled={busy}
          >
            Verify
          </button>
          <button
            type="button"
            className="secondary"
            data-testid="resend"
            disabled={busy}
            onClick={resend}
          >
            Resend code
          </button>
          <button
            type="button"
            className="outline"
            data-testid="back"
            disabled={busy}
            onClick={() => {
              setSent(false);
              setCode("");
            }}
          >
            Back
          </button>
        </div>
      </form>
    );
  }

  return (
    <form onSubmit={start} data-testid="otp-form">
      <fieldset>
        <label>
          <input
            type="radio"
            name="type"
            data-testid="type-email"
            checked={type === "email_address"}
            onChange={() => setType("email_address")}
          />
          Email
        </label>
        <label>
          <input
            type="radio"
            name="type"
            data-testid="type-phone"
            checked={type === "phone_number"}
            onChange={() => setType("phone_number")}
          />
          Phone
        </label>
      </fieldset>
      <label>
        {type === "email_address"
          ? "Email address"
          : "Phone number (+33 6 12 34 56 78)"}
        <input
          data-testid="identifier"
          name="identifier"
          type={type === "email_address" ? "email" : "tel"}
          autoComplete={type === "email_address" ? "email" : "tel"}
          required
          value={identifier}
          onChange={(e) => onIdentifier(e.target.value)}
        />
      </label>
      {feedback}
      <button
        type="submit"
        data-testid="send-code"
        aria-busy={busy}
        disabled={busy}
      >
        Send code
      </button>
    </form>
  );
}

interface PasswordProps {
  onLogin: (user: User) => void;
  /** A sign-up is waiting for the code sent to this address. */
  onCodeSent: (email: string) => void;
}

function PasswordLogin({ onLogin, onCodeSent }: PasswordProps) {
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
