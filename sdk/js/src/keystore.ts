/**
 * Where the DPoP key pair lives: IndexedDB database `sessile`, store
 * `dpop_keys`, one record per server URL. The private key is made with
 * `extractable: false`, and IndexedDB stores the `CryptoKeyPair` itself, so
 * the key survives reloads yet its bytes never reach JavaScript. Without
 * IndexedDB (some private modes) the pair lives in memory for the page's life.
 */

import { StoreOpener } from "./idb.js";

const DB_NAME = "sessile";
const STORE = "dpop_keys";

export interface KeyStore {
  /** The stored pair, or undefined when there is none yet. */
  load(): Promise<CryptoKeyPair | undefined>;
  /** The stored pair, made and stored first if there is none. */
  loadOrCreate(): Promise<CryptoKeyPair>;
}

export function generateKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
    "verify",
  ]);
}

function promised<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error("IndexedDB request failed"));
  });
}

function isKeyPair(value: unknown): value is CryptoKeyPair {
  return (
    typeof value === "object" &&
    value !== null &&
    "privateKey" in value &&
    "publicKey" in value &&
    value.privateKey instanceof CryptoKey &&
    value.publicKey instanceof CryptoKey
  );
}

class IndexedDbKeyStore implements KeyStore {
  private opener: StoreOpener | undefined;

  constructor(
    private readonly factory: IDBFactory,
    private readonly id: string,
  ) {}

  private open(): Promise<IDBDatabase> {
    this.opener ??= new StoreOpener(this.factory, DB_NAME, STORE);
    return this.opener.open();
  }

  async load(): Promise<CryptoKeyPair | undefined> {
    const db = await this.open();
    const stored: unknown = await promised(
      db.transaction(STORE, "readonly").objectStore(STORE).get(this.id),
    );
    return isKeyPair(stored) ? stored : undefined;
  }

  async loadOrCreate(): Promise<CryptoKeyPair> {
    const existing = await this.load();
    if (existing) return existing;
    // Generate outside the transaction (it would auto-commit across an await),
    // then get-or-put inside one readwrite transaction. Readwrite transactions
    // on one store run one at a time, so two tabs racing here end up with the
    // same pair: whichever wrote first.
    const fresh = await generateKeyPair();
    const db = await this.open();
    return new Promise<CryptoKeyPair>((resolve, reject) => {
      const tx = db.transaction(STORE, "readwrite");
      const store = tx.objectStore(STORE);
      let chosen = fresh;
      const get = store.get(this.id);
      get.onsuccess = () => {
        const stored: unknown = get.result;
        if (isKeyPair(stored)) chosen = stored;
        else store.put(fresh, this.id);
      };
      tx.oncomplete = () => resolve(chosen);
      tx.onerror = () => reject(tx.error ?? new Error("IndexedDB write failed"));
      tx.onabort = () => reject(tx.error ?? new Error("IndexedDB write aborted"));
    });
  }
}

class MemoryKeyStore implements KeyStore {
  private pair: Promise<CryptoKeyPair> | undefined;

  load(): Promise<CryptoKeyPair | undefined> {
    return this.pair ?? Promise.resolve(undefined);
  }

  loadOrCreate(): Promise<CryptoKeyPair> {
    this.pair ??= generateKeyPair();
    return this.pair;
  }
}

/** A store for the key of the server at `id` (its URL); IndexedDB when the page has it. */
export function openKeyStore(id: string): KeyStore {
  const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  return factory ? new FallbackKeyStore(new IndexedDbKeyStore(factory, id)) : new MemoryKeyStore();
}

/** IndexedDB can exist and still refuse (Firefox private windows once did): fall back to memory. */
class FallbackKeyStore implements KeyStore {
  private readonly memory = new MemoryKeyStore();
  private failed = false;

  constructor(private readonly primary: KeyStore) {}

  async load(): Promise<CryptoKeyPair | undefined> {
    if (this.failed) return this.memory.load();
    try {
      return await this.primary.load();
    } catch {
      this.failed = true;
      return this.memory.load();
    }
  }

  async loadOrCreate(): Promise<CryptoKeyPair> {
    if (this.failed) return this.memory.loadOrCreate();
    try {
      return await this.primary.loadOrCreate();
    } catch {
      this.failed = true;
      return this.memory.loadOrCreate();
    }
  }
}
