import { IDBFactory } from "fake-indexeddb";
import { afterEach, beforeEach } from "vitest";

import { SessionClient, type SessionClientOptions } from "../src/index.js";
import { FakeServer, ORIGIN } from "./fake-server.js";

const open: SessionClient[] = [];

/** A fresh IndexedDB per test: each test starts in a browser profile of its own. */
export function useFreshBrowser(): void {
  beforeEach(() => {
    globalThis.indexedDB = new IDBFactory();
  });
  afterEach(() => {
    for (const client of open.splice(0)) client.close();
  });
}

export function makeClient(
  server: FakeServer,
  options: Partial<SessionClientOptions> = {},
): SessionClient {
  const client = new SessionClient({ url: ORIGIN, fetch: server.fetch, ...options });
  open.push(client);
  return client;
}

/** A logged-in client: OTP login done, the nonce dance already behind it. */
export async function loggedIn(
  server: FakeServer,
  options: Partial<SessionClientOptions> = {},
): Promise<SessionClient> {
  const client = makeClient(server, options);
  await client.startOTPLogin({ identifier: { type: "email_address", value: "ada@example.com" } });
  await client.checkOTP("123456");
  return client;
}

/** An in-memory Web Storage, shared by the "tabs" of one test. */
export class MemoryStorage {
  private readonly items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
}
