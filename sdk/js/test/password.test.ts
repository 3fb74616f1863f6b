import { describe, expect, it } from "vitest";

import { checkPassword, type PasswordPolicy } from "../src/password.js";

const policy: PasswordPolicy = {
  min_length: 8,
  max_length: 12,
  uppercase: 1,
  lowercase: true,
  numbers: 2,
  symbols: 1,
};

describe("checkPassword", () => {
  it("names every rule a password breaks, in policy order", () => {
    expect(checkPassword("abc", policy).failed).toEqual([
      "min_length",
      "uppercase",
      "numbers",
      "symbols",
    ]);
    expect(checkPassword("ABCDEFGHIJKLM", policy).failed).toEqual([
      "max_length",
      "lowercase",
      "numbers",
      "symbols",
    ]);
    expect(checkPassword("Abcdef1!", policy).failed).toEqual(["numbers"]);
    expect(checkPassword("Abcdef12!", policy)).toEqual({ valid: true, failed: [], policy });
  });

  it("counts code points and Unicode letter classes", () => {
    // Four emoji are four characters, not eight UTF-16 units.
    expect(
      checkPassword("🦊🦊🦊🦊", { ...policy, max_length: 4, min_length: 4 }).failed,
    ).not.toContain("max_length");
    expect(checkPassword("Élan ñ 12", policy).failed).toEqual([]); // É upper, ñ lower, space a symbol
  });

  it("treats false and 0 as no rule", () => {
    const lax: PasswordPolicy = {
      min_length: 0,
      max_length: 0,
      uppercase: false,
      lowercase: 0,
      numbers: false,
      symbols: 0,
    };
    expect(checkPassword("", lax).valid).toBe(true);
  });
});
