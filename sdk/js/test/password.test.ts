import { describe, expect, it } from "vitest";

import { checkPassword, type PasswordPolicy } from "../src/password.js";

const policy: PasswordPolicy = {
  min_length: 8,
  max_length: 12,
  uppercase: 1,
  lowercase: 1,
  numbers: 2,
  symbols: 1,
};

function failed(password: string, rules: PasswordPolicy = policy): string[] {
  return checkPassword(password, rules)
    .results.filter((result) => !result.valid)
    .map((result) => result.criteria);
}

describe("checkPassword", () => {
  it("answers every criterion, in policy order, with the actual and expected counts", () => {
    expect(checkPassword("Ab1!", policy)).toEqual({
      valid: false,
      results: [
        { criteria: "min_length", actual: 4, expected: 8, valid: false },
        { criteria: "max_length", actual: 4, expected: 12, valid: true },
        { criteria: "uppercase", actual: 1, expected: 1, valid: true },
        { criteria: "lowercase", actual: 1, expected: 1, valid: true },
        { criteria: "numbers", actual: 1, expected: 2, valid: false },
        { criteria: "symbols", actual: 1, expected: 1, valid: true },
      ],
    });
  });

  it("names every rule a password breaks", () => {
    expect(failed("abc")).toEqual(["min_length", "uppercase", "numbers", "symbols"]);
    expect(failed("ABCDEFGHIJKLM")).toEqual(["max_length", "lowercase", "numbers", "symbols"]);
    expect(failed("Abcdef1!")).toEqual(["numbers"]);
    expect(checkPassword("Abcdef12!", policy).valid).toBe(true);
  });

  it("counts least numbers of each kind", () => {
    const strict = { ...policy, max_length: 64, uppercase: 3, symbols: 2 };
    expect(failed("ABcdef12!", strict)).toEqual(["uppercase", "symbols"]);
    expect(failed("ABCdef12!?", strict)).toEqual([]);
  });

  it("counts code points: Lu, Ll and Nd, and everything else as a symbol", () => {
    // Four emoji are four characters (and four symbols), not eight UTF-16 units.
    const emoji = checkPassword("🦊🦊🦊🦊", { ...policy, max_length: 4, min_length: 4 });
    expect(emoji.results.find((r) => r.criteria === "max_length")?.valid).toBe(true);
    expect(emoji.results.find((r) => r.criteria === "symbols")?.actual).toBe(4);
    // É upper, ñ lower, spaces symbols; Arabic-Indic digits are Nd.
    expect(failed("Élan ñ 12")).toEqual([]);
    expect(failed("Élan ñ ١٢")).toEqual([]);
    // A letter without case (Lo) is neither upper nor lower: it counts as a symbol.
    const han = checkPassword("漢", { ...policy, symbols: 1 });
    expect(han.results.find((r) => r.criteria === "symbols")?.actual).toBe(1);
  });

  it("treats 0 as no rule, and a max_length of 0 as no maximum", () => {
    const lax: PasswordPolicy = {
      min_length: 0,
      max_length: 0,
      uppercase: 0,
      lowercase: 0,
      numbers: 0,
      symbols: 0,
    };
    expect(checkPassword("", lax).valid).toBe(true);
    expect(checkPassword("x".repeat(500), lax).valid).toBe(true);
  });
});
