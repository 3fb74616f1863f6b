import type { FormEvent, ReactNode } from "react";

interface CodeFormProps {
  /** `data-testid`s of the form, its input and its submit button. */
  testIds: { form?: string; input: string; submit: string };
  label: ReactNode;
  value: string;
  onChange: (value: string) => void;
  onSubmit: (event: FormEvent) => void;
  busy: boolean;
  /** A password instead of a one-time code. */
  password?: boolean;
  /** Above the field: what the code is for. */
  prompt?: ReactNode;
  /** Under the field: errors and notices. */
  feedback?: ReactNode;
  /** Beside the submit button. */
  actions?: ReactNode;
  /** After the buttons. */
  children?: ReactNode;
}

/** The form every code (or step-up password) is entered in, with its Verify button. */
export function CodeForm({
  testIds,
  label,
  value,
  onChange,
  onSubmit,
  busy,
  password = false,
  prompt,
  feedback,
  actions,
  children,
}: CodeFormProps) {
  const submit = (
    <button
      type="submit"
      data-testid={testIds.submit}
      aria-busy={busy}
      disabled={busy}
    >
      Verify
    </button>
  );
  return (
    <form onSubmit={onSubmit} data-testid={testIds.form}>
      {prompt}
      <label>
        {label}
        <input
          data-testid={testIds.input}
          name={password ? "password" : "code"}
          type={password ? "password" : "text"}
          inputMode={password ? undefined : "numeric"}
          autoComplete={password ? "current-password" : "one-time-code"}
          required
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      </label>
      {feedback}
      {actions ? (
        <div className="actions">
          {submit}
          {actions}
        </div>
      ) : (
        submit
      )}
      {children}
    </form>
  );
}
