/**
 * One HTTP exchange with the frontend API (DESIGN §2): cookies included,
 * `Content-Type: application/json` and `X-SDK-User-Agent` on every call, a
 * timeout per attempt, and a few retries with backoff when no response
 * arrived at all. An HTTP error is an answer, so it is never retried here;
 * it becomes a `SessileError` mapped from the body's `code`.
 */

import { errorFromResponse, SessileError } from "./errors.js";
import { typedError } from "./prld-errors.js";
import { VERSION } from "./version.js";

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface TransportOptions {
  /** The API base, e.g. `https://auth.example.com/v1/session`. */
  baseUrl: string;
  fetch: FetchLike;
  timeoutMs: number;
  /** Extra attempts after a network error. */
  retries: number;
  /** The first backoff; it doubles on each further retry. */
  backoffMs: number;
  /** Sees the headers of every response, success or error (clock skew, DPoP nonce). */
  observe: (headers: Headers) => void;
}

export interface ApiRequest {
  method: "GET" | "POST";
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Extra headers, made per attempt (a DPoP proof must never be sent twice). */
  headers?: (method: string, url: string) => Promise<Record<string, string>>;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  data: T;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class Transport {
  constructor(private readonly options: TransportOptions) {}

  url(path: string, query?: ApiRequest["query"]): string {
    const url = new URL(this.options.baseUrl + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    return url.href;
  }

  async send<T>(request: ApiRequest): Promise<ApiResponse<T>> {
    const url = this.url(request.path, request.query);
    const { retries, backoffMs } = this.options;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt<T>(request, url);
      } catch (error) {
        const retryable = error instanceof SessileError && error.code === "network_error";
        if (!retryable || attempt >= retries) throw error;
        // Full jitter keeps many tabs that lost the network together from returning in step.
        await sleep(backoffMs * 2 ** attempt * (0.5 + Math.random() / 2));
      }
    }
  }

  private async attempt<T>(request: ApiRequest, url: string): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "X-SDK-User-Agent": `sessile-js/${VERSION}`,
      ...(request.headers ? await request.headers(request.method, url) : {}),
    };
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    try {
      const init: RequestInit = {
        method: request.method,
        headers,
        credentials: "include",
        signal: controller.signal,
      };
      if (request.body !== undefined) init.body = JSON.stringify(request.body);
      const response = await this.options.fetch(url, init);
      // The body is read under the same timeout: a stalled body is as bad as no answer.
      const text = await response.text();
      this.options.observe(response.headers);
      const data = parseJson(text);
      if (!response.ok)
        throw typedError(errorFromResponse(response.status, data, response.headers));
      return { status: response.status, headers: response.headers, data: data as T };
    } catch (error) {
      if (error instanceof SessileError) throw error;
      if (timedOut) {
        throw new SessileError(
          "timeout",
          0,
          `No answer from ${url} within ${this.options.timeoutMs} ms.`,
          {
            cause: error,
          },
        );
      }
      throw new SessileError("network_error", 0, `Could not reach ${url}.`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
