import { describe, expect, it } from "vitest";

import { base64urlDecode, base64urlEncode } from "../src/jwt.js";
import { decode } from "../src/index.js";

// RFC 7515 Appendix A.1: the example JWS (HS256); decode ignores the signature.
const RFC7515_A1 =
  "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9" +
  ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ" +
  ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

describe("decode", () => {
  it("reads the header and claims of the RFC 7515 example", () => {
    expect(decode(RFC7515_A1)).toEqual({
      header: { typ: "JWT", alg: "HS256" },
      claims: { iss: "joe", exp: 1300819380, "http://example.com/is_root": true },
    });
  });

  it("reads UTF-8 claims", () => {
    const token = `${base64urlEncode('{"alg":"none"}')}.${base64urlEncode('{"name":"Zoë 🦊"}')}.`;
    expect(decode(token).claims).toEqual({ name: "Zoë 🦊" });
  });

  it("rejects what is not a compact JWT", () => {
    expect(() => decode("a.b")).toThrow(TypeError);
    expect(() => decode("!!.e30.x")).toThrow(/header is not base64url JSON/);
    expect(() => decode(`e30.${base64urlEncode("[1]")}.x`)).toThrow(/claims is not a JSON object/);
    expect(() => decode(`e30.${base64urlEncode("null")}.x`)).toThrow(/claims is not a JSON object/);
  });
});

describe("base64url", () => {
  it("uses - and _ and no padding, and round-trips bytes", () => {
    const bytes = new Uint8Array([0xfb, 0xff, 0xbf, 0x00, 0x01]);
    expect(base64urlEncode(bytes)).toBe("-_-_AAE");
    expect([...base64urlDecode("-_-_AAE")]).toEqual([...bytes]);
    for (let n = 0; n < 8; n++) {
      const data = crypto.getRandomValues(new Uint8Array(n));
      expect([...base64urlDecode(base64urlEncode(data))]).toEqual([...data]);
    }
  });

  it("refuses characters outside the alphabet", () => {
    expect(() => base64urlDecode("a+b/")).toThrow(TypeError);
  });
});
