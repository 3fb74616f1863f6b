/**
 * The password policy the server serves at `GET /password/compliancy`, checked
 * locally so a form can say what is missing before anything is sent. The server
 * enforces the same policy; this check is only for the user's convenience.
 *
 * Characters are counted as Prelude's SDK and the server count them: uppercase
 * is \p{Lu}, lowercase \p{Ll}, numbers \p{Nd}, and everything else a symbol.
 */

export type PasswordCriteria =
  "min_length" | "max_length" | "uppercase" | "lowercase" | "numbers" | "symbols";

/** The policy: lengths in code points, and the least count of each kind of character. */
export interface PasswordPolicy {
  min_length: number;
  max_length: number;
  uppercase: number;
  lowercase: number;
  numbers: number;
  symbols: number;
}

/** One criterion: `actual` is the password's length or count, `expected` the policy's bound. */
export interface PasswordCriterionResult {
  criteria: PasswordCriteria;
  actual: number;
  expected: number;
  valid: boolean;
}

export interface PasswordValidation {
  valid: boolean;
  /** Every criterion, in the policy's order, valid or not. */
  results: PasswordCriterionResult[];
}

type Kind = "uppercase" | "lowercase" | "numbers" | "symbols";

function kindOf(char: string): Kind {
  if (/\p{Lu}/u.test(char)) return "uppercase";
  if (/\p{Ll}/u.test(char)) return "lowercase";
  if (/\p{Nd}/u.test(char)) return "numbers";
  return "symbols";
}

/** A bound from the wire: a finite number, else none (0). */
function bound(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

export function checkPassword(password: string, policy: PasswordPolicy): PasswordValidation {
  const chars = [...password];
  const counts: Record<Kind, number> = { uppercase: 0, lowercase: 0, numbers: 0, symbols: 0 };
  for (const char of chars) counts[kindOf(char)]++;
  const max = bound(policy.max_length);
  const results: PasswordCriterionResult[] = [
    criterion("min_length", chars.length, bound(policy.min_length)),
    // A maximum of 0 means no maximum.
    {
      criteria: "max_length",
      actual: chars.length,
      expected: max,
      valid: max <= 0 || chars.length <= max,
    },
  ];
  for (const kind of ["uppercase", "lowercase", "numbers", "symbols"] as const) {
    results.push(criterion(kind, counts[kind], bound(policy[kind])));
  }
  return { valid: results.every((result) => result.valid), results };
}

function criterion(
  criteria: PasswordCriteria,
  actual: number,
  expected: number,
): PasswordCriterionResult {
  return { criteria, actual, expected, valid: actual >= expected };
}
