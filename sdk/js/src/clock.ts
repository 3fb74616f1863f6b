/**
 * The server's clock as seen from here. Each response's `Date` header
 * (RFC 9110 §6.6.1) updates the offset, which then corrects DPoP `iat`
 * and every expiry decision, so a browser whose clock is wrong still
 * refreshes on time.
 */

// `Date` has one-second resolution and the response took time to arrive:
// an offset this small is noise, and chasing it would only add jitter.
const RESOLUTION_MS = 1500;

export class ServerClock {
  private offsetMs = 0;

  constructor(private readonly localNow: () => number = Date.now) {}

  /** Learn the offset from a response's `Date` header, if it has a valid one. */
  observe(headers: Headers): void {
    const raw = headers.get("Date");
    if (raw === null) return;
    const serverMs = Date.parse(raw);
    if (Number.isNaN(serverMs)) return;
    const offset = serverMs - this.localNow();
    this.offsetMs = Math.abs(offset) < RESOLUTION_MS ? 0 : offset;
  }

  /** Server time in milliseconds. */
  now(): number {
    return this.localNow() + this.offsetMs;
  }

  /** Server time in whole seconds, as JWT `iat`/`exp` use. */
  seconds(): number {
    return Math.floor(this.now() / 1000);
  }

  get skewMs(): number {
    return this.offsetMs;
  }
}
