/**
 * The access-token cache: in memory, and in a `Storage` when the app passes
 * one (`localStorage` shares it across tabs and reloads). Expiry decisions use
 * the server's clock, and `obtainedAt` (local milliseconds) lets a tab that
 * waited for the refresh lock tell a token that arrived meanwhile from the one
 * it already had.
 */

import type { ServerClock } from "./clock.js";

export interface CachedToken {
  accessToken: string;
  /** Unix seconds on the server's clock, as the server sent it. */
  expiresAt: number;
  /** `Date.now()` of the tab that got it from the server. */
  obtainedAt: number;
}

/** The part of the Web Storage interface the cache needs. */
export type TokenStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

function parse(raw: string | null): CachedToken | undefined {
  if (raw === null) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<CachedToken>;
    if (
      typeof value.accessToken === "string" &&
      typeof value.expiresAt === "number" &&
      typeof value.obtainedAt === "number"
    ) {
      return {
        accessToken: value.accessToken,
        expiresAt: value.expiresAt,
        obtainedAt: value.obtainedAt,
      };
    }
  } catch {
    // A corrupt entry is no entry.
  }
  return undefined;
}

export class TokenCache {
  private memory: CachedToken | undefined;
  private readonly key: string;

  constructor(
    url: string,
    private readonly clock: ServerClock,
    private readonly marginMs: number,
    private readonly storage: TokenStorage | undefined,
  ) {
    this.key = `sessile.token:${url}`;
  }

  /** The newest token known here or in the shared storage. */
  latest(): CachedToken | undefined {
    const stored = this.readStorage();
    if (!stored) return this.memory;
    if (!this.memory || stored.obtainedAt > this.memory.obtainedAt) this.memory = stored;
    return this.memory;
  }

  /** The newest token, if obtained after `notBefore` and valid for longer than the refresh margin. */
  fresh(notBefore = -Infinity): CachedToken | undefined {
    const token = this.latest();
    if (!token || token.obtainedAt <= notBefore) return undefined;
    return token.expiresAt * 1000 - this.clock.now() > this.marginMs ? token : undefined;
  }

  /** Keep `token` unless a newer one is already here (a broadcast can arrive late). */
  put(token: CachedToken, share = true): void {
    const current = this.memory;
    if (current && current.obtainedAt > token.obtainedAt) return;
    this.memory = token;
    if (share) this.writeStorage(JSON.stringify(token));
  }

  clear(share = true): void {
    this.memory = undefined;
    if (share) this.writeStorage(undefined);
  }

  private readStorage(): CachedToken | undefined {
    try {
      return parse(this.storage?.getItem(this.key) ?? null);
    } catch {
      return undefined; // Storage can throw (quota, disabled cookies); the memory copy still works.
    }
  }

  private writeStorage(value: string | undefined): void {
    try {
      if (value === undefined) this.storage?.removeItem(this.key);
      else this.storage?.setItem(this.key, value);
    } catch {
      // See readStorage.
    }
  }
}
