/**
 * Open an IndexedDB database holding one object store, created on first use.
 * A failed open is not cached, so the next call tries again.
 */
export class StoreOpener {
  private db: Promise<IDBDatabase> | undefined;

  constructor(
    private readonly factory: IDBFactory,
    private readonly name: string,
    private readonly store: string,
  ) {}

  open(): Promise<IDBDatabase> {
    this.db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const request = this.factory.open(this.name, 1);
      request.onupgradeneeded = () => {
        if (!request.result.objectStoreNames.contains(this.store)) {
          request.result.createObjectStore(this.store);
        }
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error("IndexedDB open failed"));
      request.onblocked = () => reject(new Error("IndexedDB open blocked"));
    }).catch((error: unknown) => {
      this.db = undefined;
      throw error;
    });
    return this.db;
  }
}
