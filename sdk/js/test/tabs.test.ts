import { afterEach, describe, expect, it, vi } from "vitest";

import { MissingChallengeTokenError } from "../src/index.js";
import { FakeServer } from "./fake-server.js";
import { MemoryStorage, loggedIn, makeClient, useFreshBrowser } from "./helpers.js";

useFreshBrowser();

/** `navigator.locks` for one exclusive lock name at a time, in request order, like the browser's. */
function installLocks(): { requests: string[] } {
  const tails = new Map<string, Promise<unknown>>();
  const requests: string[] = [];
  const locks = {
    request<T>(name: string, callback: () => Promise<T>): Promise<T> {
      requests.push(name);
      const previous = tails.get(name) ?? Promise.resolve();
      const run = previous.then(callback, callback);
      tails.set(
        name,
        run.catch(() => undefined),
      );
      return run;
    },
  };
  vi.stubGlobal("navigator", { locks });
  return { requests };
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("across tabs", () => {
  it("runs one refresh under the lock and hands the result to the waiting tab", async () => {
    const { requests } = installLocks();
    const server = new FakeServer();
    const tabA = await loggedIn(server);
    const tabB = makeClient(server); // same browser: same IndexedDB key, same cookie jar
    await tabA.invalidateCache();
    await tabB.invalidateCache();
    const [a, b] = await Promise.all([tabA.refresh(), tabB.refresh()]);
    expect(server.count("/refresh")).toBe(1);
    expect(b.user.accessToken).toBe(a.user.accessToken);
    expect(requests).toEqual(["sessile.refresh", "sessile.refresh"]);
  });

  it("shares the token through the storage when there is no BroadcastChannel", async () => {
    installLocks();
    vi.stubGlobal("BroadcastChannel", undefined);
    const storage = new MemoryStorage();
    const server = new FakeServer();
    const tabA = await loggedIn(server, { storage });
    const tabB = makeClient(server, { storage });
    // Tab B has never talked to the server, yet the storage already holds A's token.
    expect((await tabB.refresh()).user.profile.sub).toBe("usr_otp");
    await tabA.invalidateCache();
    await tabB.invalidateCache();
    await Promise.all([tabA.refresh(), tabB.refresh()]);
    expect(server.count("/refresh")).toBe(1);
  });

  it("hands the token over in IndexedDB when the broadcast is late or missing", async () => {
    installLocks();
    vi.stubGlobal("BroadcastChannel", undefined); // the broadcast never arrives
    const server = new FakeServer();
    const tabA = await loggedIn(server);
    const tabB = makeClient(server);
    await tabA.invalidateCache();
    await tabB.invalidateCache();
    const [a, b] = await Promise.all([tabA.refresh(), tabB.refresh()]);
    expect(server.count("/refresh")).toBe(1);
    expect(b.user.accessToken).toBe(a.user.accessToken);
  });

  it("takes from the handoff only a token got while this tab waited", async () => {
    installLocks();
    vi.stubGlobal("BroadcastChannel", undefined);
    const server = new FakeServer();
    const tabA = await loggedIn(server);
    await tabA.invalidateCache();
    await tabA.refresh(); // the handoff now holds a valid token
    // A tab opened later (a reload, say) asks the server: the session may have
    // been revoked since, and only the server knows.
    const tabB = makeClient(server);
    await tabB.refresh();
    expect(server.served("/refresh")).toBe(2);

    await tabA.logout();
    const tabC = makeClient(server);
    await expect(tabC.refresh()).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("still works with neither locks nor BroadcastChannel, each tab on its own", async () => {
    vi.stubGlobal("navigator", {});
    vi.stubGlobal("BroadcastChannel", undefined);
    const server = new FakeServer();
    const tabA = await loggedIn(server);
    const tabB = makeClient(server);
    const [a, b] = await Promise.all([
      tabA.invalidateCache().then(() => tabA.refresh()),
      tabB.refresh(),
    ]);
    expect(server.served("/refresh")).toBe(2);
    expect(a.user.profile.sid).toBe(b.user.profile.sid);
  });

  it("tells the other tabs about a new token and about a logout", async () => {
    const server = new FakeServer();
    const tabB = makeClient(server);
    const tabA = await loggedIn(server);
    await tick();
    const b = await tabB.refresh();
    expect(server.count("/refresh")).toBe(0); // B got A's login token by broadcast
    expect(b.user.profile.sub).toBe("usr_otp");
    let challengeId = "";
    await tabB.requestStepUp({
      scope: "prld:pwd:write",
      onChallenge: (info) => (challengeId = info.challengeId),
    });

    await tabA.logout();
    await tick();
    // B forgets its pending step-up too.
    await expect(tabB.otpCreate({ challengeId })).rejects.toBeInstanceOf(
      MissingChallengeTokenError,
    );
    await expect(tabB.refresh()).rejects.toMatchObject({ code: "unauthorized" });
    expect(server.count("/refresh")).toBeGreaterThan(0); // B's cache was emptied: it asked the server
  });

  it("hands the server's DPoP nonce along with the token", async () => {
    installLocks();
    const server = new FakeServer();
    const tabB = makeClient(server);
    const tabA = await loggedIn(server);
    await tick();
    await tabB.refresh(); // A's token, by broadcast: B has not called the server yet
    await tabB.invalidateCache();
    await tabB.refresh();
    // B's first proof already carried the nonce: no use_dpop_nonce round trip.
    expect(server.count("/refresh")).toBe(1);
    expect(server.served("/refresh")).toBe(1);
    tabA.close();
  });

  it("ignores broadcasts about another server", async () => {
    const server = new FakeServer();
    const other = new FakeServer();
    await loggedIn(other, { url: "https://other.example.test", fetch: other.fetch });
    const tab = makeClient(server);
    await tick();
    await expect(tab.refresh()).rejects.toMatchObject({ code: "unauthorized" });
  });
});
