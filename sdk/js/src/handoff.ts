/**
 * The refresh handoff: the tab that refreshed under the cross-tab lock writes
 * its token here before it lets the lock go, and a tab that waited for the lock
 * reads it first. A BroadcastChannel message can reach the waiting tab after the
 * lock does; an IndexedDB transaction committed before the release cannot, so
 * five tabs refreshing at once make exactly one server call.
 *
 * Its own database (`sessile_refresh`, store `tokens`, one record per server
 * URL), so the key store's schema never has to change for it. The record is
 * deleted on logout. Without IndexedDB, the broadcast alone does the job, most
 * of the time; a missed handoff costs one extra refresh, never a logout.
 */

import type { CachedToken } from "./cache.js";
import { StoreOpener } from "./idb.js";

const DB_NAME = "sessile_refresh";
const STORE = "tokens";

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error("IndexedDB transaction failed"));
    tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
  });
}

/** A token and the DPoP nonce that came with it, so the reader's next proof needs no retry. */
export interface HandedOff {
  token: CachedToken;
  nonce: string | undefined;
}

function isHandedOff(value: unknown): value is HandedOff {
  const record = value as Partial<HandedOff> | null;
  const token = record?.token;
  return (
    typeof token?.accessToken === "string" &&
    typeof token.expiresAt === "number" &&
    typeof token.obtainedAt === "number" &&
    (record?.nonce === undefined || typeof record.nonce === "string")
  );
}

export class RefreshHandoff {
  private opener: StoreOpener | undefined;

  constructor(private readonly id: string) {}

  /** The last token a tab of this browser got from the server, if any. */
  async read(): Promise<HandedOff | undefined> {
    try {
      const db = await this.open();
      if (!db) return undefined;
      const tx = db.transaction(STORE, "readonly");
      const request = tx.objectStore(STORE).get(this.id);
      await done(tx);
      const value: unknown = request.result;
      return isHandedOff(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }

  /** Record `token`, or delete the record; resolves once committed. */
  async write(record: HandedOff | undefined): Promise<void> {
    try {
      const db = await this.open();
      if (!db) return;
      const tx = db.transaction(STORE, "readwrite");
      if (record) tx.objectStore(STORE).put(record, this.id);
      else tx.objectStore(STORE).delete(this.id);
      await done(tx);
    } catch {
      // Not fatal: see the module comment.
    }
  }

  private open(): Promise<IDBDatabase | undefined> {
    const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!factory) return Promise.resolve(undefined);
    this.opener ??= new StoreOpener(factory, DB_NAME, STORE);
    return this.opener.open();
  }
}
