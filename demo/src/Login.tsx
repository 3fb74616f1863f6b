import { useState } from "react";
import type { User } from "sessile";

import { DevOutbox } from "./DevOutbox.tsx";
import { OAuthButtons } from "./OAuth.tsx";
import { OtpLogin } from "./OtpLogin.tsx";
import { PasswordLogin } from "./PasswordLogin.tsx";

type Method = "otp" | "password";

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
      <OAuthButtons />
      {method === "otp" && (
        <DevOutbox identifier={identifier} version={outboxVersion} />
      )}
    </>
  );
}
