import { describe, expect, it, vi } from "vitest";

import { exportPublicJwk } from "../src/dpop.js";
import { openKeyStore } from "../src/keystore.js";
import { useFreshBrowser } from "./helpers.js";

useFreshBrowser();

describe("the DPoP key store", () => {
  it("makes a P-256 pair whose private key cannot be exported", async () => {
    const pair = await openKeyStore("https://a.test").loadOrCreate();
    expect(pair.privateKey.extractable).toBe(false);
    expect(pair.privateKey.algorithm).toMatchObject({ name: "ECDSA", namedCurve: "P-256" });
    await expect(crypto.subtle.exportKey("jwk", pair.privateKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey("pkcs8", pair.privateKey)).rejects.toThrow();
    const jwk = await exportPublicJwk(pair.publicKey);
    expect(Object.keys(jwk).sort()).toEqual(["crv", "kty", "x", "y"]);
  });

  it("keeps the pair in IndexedDB `sessile`/`dpop_keys` across reloads", async () => {
    const first = await openKeyStore("https://a.test").loadOrCreate();
    const reloaded = await openKeyStore("https://a.test").load();
    expect(reloaded).toBeDefined();
    expect(await exportPublicJwk(reloaded!.publicKey)).toEqual(
      await exportPublicJwk(first.publicKey),
    );
    expect(reloaded!.privateKey.extractable).toBe(false);

    const names = await new Promise<string[]>((resolve) => {
      const request = indexedDB.open("sessile");
      request.onsuccess = () => resolve([...request.result.objectStoreNames]);
    });
    expect(names).toEqual(["dpop_keys"]);
  });

  it("gives two tabs racing to create a key the same key", async () => {
    const [a, b] = await Promise.all([
      openKeyStore("https://a.test").loadOrCreate(),
      openKeyStore("https://a.test").loadOrCreate(),
    ]);
    expect(await exportPublicJwk(a.publicKey)).toEqual(await exportPublicJwk(b.publicKey));
    const stored = await openKeyStore("https://a.test").load();
    expect(await exportPublicJwk(stored!.publicKey)).toEqual(await exportPublicJwk(a.publicKey));
  });

  it("keeps one key per server", async () => {
    const a = await openKeyStore("https://a.test").loadOrCreate();
    const b = await openKeyStore("https://b.test").loadOrCreate();
    expect(await exportPublicJwk(a.publicKey)).not.toEqual(await exportPublicJwk(b.publicKey));
  });

  it("loads nothing before a key was made", async () => {
    expect(await openKeyStore("https://a.test").load()).toBeUndefined();
  });

  it("falls back to memory without IndexedDB, or when it fails", async () => {
    vi.stubGlobal("indexedDB", undefined);
    const store = openKeyStore("https://a.test");
    expect(await store.load()).toBeUndefined();
    const pair = await store.loadOrCreate();
    expect(await store.loadOrCreate()).toBe(pair);
    vi.unstubAllGlobals();

    vi.stubGlobal("indexedDB", {
      open: () => {
        throw new Error("denied");
      },
    });
    const broken = openKeyStore("https://a.test");
    const fallback = await broken.loadOrCreate();
    expect(fallback.privateKey.extractable).toBe(false);
    expect(await broken.load()).toBe(fallback);
    vi.unstubAllGlobals();
  });
});
