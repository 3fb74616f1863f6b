import { useState, type FormEvent } from "react";
import type { Identifier, User } from "sessile";

import { client } from "./client.ts";
import { CodeForm } from "./CodeForm.tsx";
import { useTask } from "./useTask.ts";

interface OtpProps {
  /** The code is already on its way (a sign-up proving its address). */
  initiallySent?: boolean;
  identifier: string;
  onIdentifier: (value: string) => void;
  onSent: () => void;
  onLogin: (user: User) => void;
}

/** Log in by a one-time code sent to an e-mail address or a phone. */
export function OtpLogin({
  initiallySent = false,
  identifier,
  onIdentifier,
  onSent,
  onLogin,
}: OtpProps) {
  const [type, setType] = useState<Identifier["type"]>("email_address");
  const [sent, setSent] = useState(initiallySent);
  const [code, setCode] = useState("");
  const [info, setInfo] = useState<string | null>(null);
  const { busy, error, run } = useTask(() => setInfo(null));

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
      <CodeForm
        testIds={{ form: "code-form", input: "code", submit: "verify" }}
        prompt={
          <p>
            We sent a code to <strong>{identifier}</strong>.
          </p>
        }
        label="Code"
        value={code}
        onChange={setCode}
        onSubmit={check}
        busy={busy}
        feedback={feedback}
        actions={
          <>
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
          </>
        }
      />
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
