/**
 * Coordination between tabs of one origin: a Web Lock so that one refresh runs
 * at a time, and a BroadcastChannel that hands its result (or a logout) to the
 * other tabs. Both are optional in the platform; without them each tab works
 * alone, which costs extra refreshes but stays correct, because the refresh
 * cookie is shared and the server's grace window absorbs a near-simultaneous
 * pair.
 */

import type { CachedToken } from "./cache.js";

export const LOCK_NAME = "sessile.refresh";
export const CHANNEL_NAME = "sessile";

export type TabMessage =
  | { type: "token"; url: string; token: CachedToken; nonce?: string | undefined }
  | { type: "logout"; url: string };

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

function lockManager(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks && typeof nav.locks.request === "function" ? nav.locks : undefined;
}

function isTabMessage(value: unknown, url: string): value is TabMessage {
  if (typeof value !== "object" || value === null) return false;
  const message = value as Record<string, unknown>;
  if (message.url !== url) return false;
  if (message.type === "logout") return true;
  const token = message.token as Record<string, unknown> | undefined;
  return (
    message.type === "token" &&
    (message.nonce === undefined || typeof message.nonce === "string") &&
    typeof token?.accessToken === "string" &&
    typeof token.expiresAt === "number" &&
    typeof token.obtainedAt === "number"
  );
}

export class Tabs {
  private readonly channel: BroadcastChannel | undefined;

  /** `url` scopes messages, so clients of different servers on one page ignore each other. */
  constructor(
    private readonly url: string,
    onMessage: (message: TabMessage) => void,
  ) {
    if (typeof BroadcastChannel === "function") {
      this.channel = new BroadcastChannel(CHANNEL_NAME);
      this.channel.onmessage = (event: MessageEvent) => {
        if (isTabMessage(event.data, url)) onMessage(event.data);
      };
    }
  }

  /** Run `task` while holding the cross-tab refresh lock, or just run it when there are no locks. */
  withRefreshLock<T>(task: () => Promise<T>): Promise<T> {
    const locks = lockManager();
    if (!locks) return task();
    return locks.request(LOCK_NAME, async () => {
      const result = await task();
      // Hold the lock one more task, so that the broadcast this task posted is
      // delivered before a waiting tab gets the lock and looks for it. Only a
      // nicety: a tab that misses it refreshes once more, which is harmless.
      if (this.channel) await new Promise((resolve) => setTimeout(resolve, 0));
      return result;
    });
  }

  /** `nonce` is the server's latest DPoP nonce, so a tab that never called the server has one too. */
  announceToken(token: CachedToken, nonce: string | undefined): void {
    this.post({ type: "token", url: this.url, token, nonce });
  }

  announceLogout(): void {
    this.post({ type: "logout", url: this.url });
  }

  close(): void {
    this.channel?.close();
  }

  private post(message: TabMessage): void {
    try {
      this.channel?.postMessage(message);
    } catch {
      // A closed channel: this client is shutting down, nobody is left to tell.
    }
  }
}
