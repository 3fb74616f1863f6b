/**
 * The password policy the server serves at `GET /password/compliancy`, checked
 * locally so a form can say what is missing before anything is sent. The server
 * enforces the same policy; this check is only for the user's convenience.
 */

export type PasswordRule =
  "min_length" | "max_length" | "uppercase" | "lowercase" | "numbers" | "symbols";

/**
 * The policy. Lengths count Unicode code points. A character-class rule is a
 * minimum count; `true` means at least one, and `false` or `0` means no rule.
 */
export interface PasswordPolicy {
  min_length: number;
  max_length: number;
  uppercase: number | boolean;
  lowercase: number | boolean;
  numbers: number | boolean;
  symbols: number | boolean;
}

export interface PasswordCheck {
  valid: boolean;
  /** The rules the password breaks, in the policy's order. */
  failed: PasswordRule[];
  policy: PasswordPolicy;
}

const CLASSES: ReadonlyArray<[Exclude<PasswordRule, "min_length" | "max_length">, RegExp]> = [
  ["uppercase", /\p{Lu}/u],
  ["lowercase", /\p{Ll}/u],
  ["numbers", /\p{Nd}/u],
  // Anything that is neither a letter nor a digit, spaces included.
  ["symbols", /[^\p{L}\p{N}]/u],
];

function minimum(rule: number | boolean | undefined): number {
  if (rule === true) return 1;
  return typeof rule === "number" && Number.isFinite(rule) ? rule : 0;
}

export function checkPassword(password: string, policy: PasswordPolicy): PasswordCheck {
  const chars = [...password];
  const failed: PasswordRule[] = [];
  if (chars.length < minimum(policy.min_length)) failed.push("min_length");
  const max = minimum(policy.max_length);
  if (max > 0 && chars.length > max) failed.push("max_length");
  for (const [rule, pattern] of CLASSES) {
    const count = chars.filter((char) => pattern.test(char)).length;
    if (count < minimum(policy[rule])) failed.push(rule);
  }
  return { valid: failed.length === 0, failed, policy };
}
