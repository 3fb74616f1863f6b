import { SessileError, SessionClient } from "sessile";

/** The demo is served by the sessile server itself, so the API is on this origin. */
export const client = new SessionClient({ url: location.origin });

/** A message for the user: the server's own for a SessileError, else the error's. */
export function describe(error: unknown): string {
  if (error instanceof SessileError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}

/** The session is gone: the refresh token is unknown, expired or revoked. */
export function isSignedOut(error: unknown): boolean {
  return error instanceof SessileError && error.code === "unauthorized";
}
