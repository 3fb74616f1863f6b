import { useState, type FormEvent } from "react";

import { client } from "./client.ts";
import { DevOutbox } from "./DevOutbox.tsx";
import { StepUp } from "./StepUp.tsx";
import { useContact } from "./useContact.ts";
import { CodeForm } from "./CodeForm.tsx";
import { useTask } from "./useTask.ts";

/** Add a phone number, proven by its own code, behind a step-up for `prld:phone:register`. */
export function AddPhone() {
  const contact = useContact();
  const [granted, setGranted] = useState(false);
  const [phone, setPhone] = useState("");
  const [sent, setSent] = useState(false);
  const [code, setCode] = useState("");
  const [added, setAdded] = useState<string | null>(null);
  const { busy, error, run } = useTask();

  const send = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await client.account("/identifiers", {
        identifier: { type: "phone_number", value: phone.trim() },
      });
      setSent(true);
    });
  };

  const check = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const answer = await client.account<{ identifier: { value: string } }>(
        "/identifiers/check",
        { code: code.trim() },
      );
      setAdded(answer.identifier.value);
    });
  };

  const feedback = error && (
    <p className="error" role="alert" data-testid="phone-error">
      {error}
    </p>
  );

  return (
    <>
      <h1>Add phone</h1>
      {!granted ? (
        <StepUp
          scope="prld:phone:register"
          contact={contact}
          onGranted={() => setGranted(true)}
        />
      ) : added ? (
        <p data-testid="phone-done">{added} is now on your account, proven.</p>
      ) : !sent ? (
        <form onSubmit={send} data-testid="phone-form">
          <label>
            Phone number (international form)
            <input
              data-testid="phone"
              type="tel"
              required
              value={phone}
              onChange={(e) => setPhone(e.target.value)}
            />
          </label>
          {feedback}
          <button
            type="submit"
            data-testid="phone-send"
            aria-busy={busy}
            disabled={busy}
          >
            Send a code to it
          </button>
        </form>
      ) : (
        <CodeForm
          testIds={{
            form: "phone-code-form",
            input: "phone-code",
            submit: "phone-verify",
          }}
          label={`Code sent to ${phone}`}
          value={code}
          onChange={setCode}
          onSubmit={check}
          busy={busy}
          feedback={feedback}
        >
          <DevOutbox identifier={phone} version={1} />
        </CodeForm>
      )}
    </>
  );
}
