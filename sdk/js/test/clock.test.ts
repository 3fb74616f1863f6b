import { describe, expect, it } from "vitest";

import { ServerClock } from "../src/clock.js";

const LOCAL = Date.parse("2030-01-01T00:00:00Z");
const at = (iso: string): Headers => new Headers({ Date: new Date(iso).toUTCString() });

describe("ServerClock", () => {
  it("follows the server's Date header", () => {
    const clock = new ServerClock(() => LOCAL);
    clock.observe(at("2030-01-01T00:10:00Z"));
    expect(clock.skewMs).toBe(600_000);
    expect(clock.seconds()).toBe(LOCAL / 1000 + 600);
    clock.observe(at("2029-12-31T23:55:00Z"));
    expect(clock.now()).toBe(LOCAL - 300_000);
  });

  it("treats an offset within the header's one-second resolution as none", () => {
    const clock = new ServerClock(() => LOCAL + 900);
    clock.observe(at("2030-01-01T00:00:00Z"));
    expect(clock.skewMs).toBe(0);
  });

  it("ignores a missing or unreadable Date", () => {
    const clock = new ServerClock(() => LOCAL);
    clock.observe(at("2030-01-01T01:00:00Z"));
    clock.observe(new Headers());
    clock.observe(new Headers({ Date: "yesterday-ish" }));
    expect(clock.skewMs).toBe(3_600_000);
  });
});
