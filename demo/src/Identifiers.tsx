import { useRef, useState, type FormEvent } from "react";
import {
  SessileError,
  type IdentifierInfo,
  type StepUpChallengeInfo,
} from "sessile";

import { client } from "./client.ts";
import { StepUpError, StepUpSteps, useStepUp } from "./StepUp.tsx";
import { useIdentifiers } from "./useIdentifiers.ts";
import { useTask } from "./useTask.ts";

type Kind = IdentifierInfo["type"];

const SCOPES: Record<Kind, string> = {
  email_address: "prld:email:register",
  phone_number: "prld:phone:register",
};

/**
 * The user's e-mail addresses and phone numbers. A new one is added by the register
 * step-up (`prld:email:register` or `prld:phone:register` with `metadata.identifier`):
 * its code goes to the new identifier, and `otpCheck` adds it. For a few minutes after,
 * the session may remove one of the same type (to replace an address, say). The
 * account's oldest proven identifier is removed only under a grant whose code went to
 * it: when the server says so (`insufficient_scope`), the same step-up names it, its
 * code goes to it, and the removal follows.
 */
export function Identifiers() {
  const { identifiers, reload } = useIdentifiers();
  const [kind, setKind] = useState<Kind>("phone_number");
  const [value, setValue] = useState("");
  const [added, setAdded] = useState<StepUpChallengeInfo | null>(null);
  /** The identifier waiting for its own code before it is removed. */
  const proving = useRef<IdentifierInfo | null>(null);
  const removal = useTask();
  const stepUp = useStepUp((info) => {
    const waiting = proving.current;
    if (waiting && info.metadata?.identifier === waiting.value) {
      proving.current = null;
      void removal.run(async () => {
        await client.removeIdentifier(waiting);
        await reload();
      });
      return;
    }
    setAdded(info);
    setValue("");
    void reload();
  });

  const grantedKind = added
    ? (Object.keys(SCOPES) as Kind[]).find(
        (k) => SCOPES[k] === added.scopeRequested,
      )
    : undefined;

  const add = (event: FormEvent) => {
    event.preventDefault();
    setAdded(null);
    stepUp.start(SCOPES[kind], { identifier: value.trim() });
  };

  const remove = (identifier: IdentifierInfo) =>
    void removal.run(async () => {
      try {
        await client.removeIdentifier(identifier);
      } catch (error) {
        if (
          !(error instanceof SessileError) ||
          error.code !== "insufficient_scope"
        )
          throw error;
        // The account's first identifier: prove it first, by a code sent to it.
        proving.current = identifier;
        stepUp.start(SCOPES[identifier.type], { identifier: identifier.value });
        return;
      }
      await reload();
    });

  const pending = stepUp.info && stepUp.info.currentStep !== "completed";
  return (
    <>
      <h1>Identifiers</h1>
      <table data-testid="identifiers">
        <tbody>
          {identifiers.map((i) => (
            <tr key={`${i.type}:${i.value}`} data-testid="identifier-row">
              <td>{i.type === "email_address" ? "E-mail" : "Phone"}</td>
              <td data-testid="identifier-value">{i.value}</td>
              <td>{i.verified ? "proven" : "not proven"}</td>
              <td>
                {grantedKind === i.type && (
                  <button
                    className="secondary"
                    data-testid={`remove:${i.value}`}
                    disabled={removal.busy}
                    onClick={() => remove(i)}
                  >
                    Remove
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {removal.error && (
        <p className="error" role="alert" data-testid="remove-error">
          {removal.error}
        </p>
      )}
      {added && (
        <p data-testid="identifier-added">
          {String(added.metadata?.identifier)} is now on your account, proven.
        </p>
      )}
      {pending ? (
        <StepUpSteps stepUp={stepUp} identifiers={identifiers} />
      ) : (
        <form onSubmit={add} data-testid="add-form">
          <fieldset>
            <label>
              <input
                type="radio"
                name="kind"
                data-testid="add-type-phone"
                checked={kind === "phone_number"}
                onChange={() => setKind("phone_number")}
              />
              Phone
            </label>
            <label>
              <input
                type="radio"
                name="kind"
                data-testid="add-type-email"
                checked={kind === "email_address"}
                onChange={() => setKind("email_address")}
              />
              E-mail
            </label>
          </fieldset>
          <label>
            {kind === "phone_number"
              ? "New phone number (international form)"
              : "New e-mail address"}
            <input
              data-testid="add-identifier"
              type={kind === "phone_number" ? "tel" : "email"}
              required
              value={value}
              onChange={(e) => setValue(e.target.value)}
            />
          </label>
          <StepUpError stepUp={stepUp} />
          <button
            type="submit"
            data-testid="add-submit"
            aria-busy={stepUp.busy}
            disabled={stepUp.busy}
          >
            Send a code to it
          </button>
        </form>
      )}
    </>
  );
}
