/**
 * Compact JWS helpers (RFC 7515 §7.1): base64url without padding, and
 * `decode`, which reads a token's header and claims without verifying it.
 * Verification belongs to the backend, against the server's JWKS.
 */

export type JsonObject = Record<string, unknown>;

export interface DecodedToken {
  header: JsonObject;
  claims: JsonObject;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function base64urlEncode(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function base64urlDecode(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new TypeError("not base64url");
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const binary = atob(padded);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function decodeJsonPart(part: string, name: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(base64urlDecode(part)));
  } catch (cause) {
    throw new TypeError(`The token's ${name} is not base64url JSON.`, { cause });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`The token's ${name} is not a JSON object.`);
  }
  return value as JsonObject;
}

/** The header and claims of a compact JWT. No signature check: never trust it for access control. */
export function decode(token: string): DecodedToken {
  const parts = token.split(".");
  if (parts.length !== 3) throw new TypeError("A compact JWT has three dot-separated parts.");
  return {
    header: decodeJsonPart(parts[0]!, "header"),
    claims: decodeJsonPart(parts[1]!, "claims"),
  };
}
