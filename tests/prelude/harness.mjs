// Test harness: a real sessile server over HTTPS (its `dev-cert`), the test page
// (Prelude's SDK bundled by esbuild, next to the SDK's own core-worker.js) on a
// second HTTPS port, and headless Chromium through playwright-core.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpsServer, request as httpsRequest } from "node:https";
import { createServer as createNetServer } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";

import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../chromium.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const REPO = resolve(here, "../..");
export const PYTHON = join(REPO, ".venv", "bin", "python");
export const CHROMIUM = process.env.SESSILE_TEST_CHROMIUM || "/usr/bin/chromium";
export const REQUIRED = !["", "0", "false"].includes(process.env.SESSILE_TEST_REQUIRE_SERVICES ?? "");


/** Why the suite cannot run here, or null. With SESSILE_TEST_REQUIRE_SERVICES=1 a reason is a failure. */
export function missingReason() {
  if (!existsSync(CHROMIUM)) return `Chromium is not installed at ${CHROMIUM}`;
  return null;
}

/**
 * The options of a test file's top-level `describe`: skipped with the reason when
 * Chromium is missing, unless SESSILE_TEST_REQUIRE_SERVICES makes that a failure.
 */
export function suiteOptions(timeout) {
  const missing = missingReason();
  if (missing && REQUIRED) {
    throw new Error(`${missing}; SESSILE_TEST_REQUIRE_SERVICES is set, so this is a failure`);
  }
  return { skip: missing ?? false, timeout };
}

/**
 * What every test file runs on: a data directory with a development certificate, the
 * test page built and served over HTTPS, sessile over HTTPS, and headless Chromium.
 * `beforeSessile({ apiPort, pageServer })` may start more (a provider) and return
 * extra environment for sessile. `stop()` ends it all, in reverse.
 */
export async function startStack({ beforeSessile } = {}) {
  const stack = { stops: [] };
  stack.stop = async () => {
    await stack.browser?.close().catch(() => {});
    for (const stop of stack.stops.reverse()) await stop();
    if (stack.dir) cleanup(stack.dir);
  };
  try {
    ensurePython();
    stack.dir = tempDir();
    const cert = devCert(stack.dir);
    const [apiPort, pagePort] = [await freePort(), await freePort()];
    const pageDir = join(stack.dir, "page");
    mkdirSync(pageDir);
    await buildPage(pageDir);
    stack.pageServer = await startPageServer({ port: pagePort, dir: pageDir, cert });
    stack.stops.push(() => stack.pageServer.stop());
    const extraEnv = (await beforeSessile?.({ apiPort, pageServer: stack.pageServer, stack })) ?? {};
    stack.sessile = await startSessile({
      port: apiPort,
      dataDir: stack.dir,
      cert,
      pageOrigin: stack.pageServer.origin,
      extraEnv,
    });
    stack.stops.push(() => stack.sessile.stop());
    stack.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 });
    return stack;
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

/**
 * A fresh browser profile (own cookies, IndexedDB key, localStorage) with the test page
 * loaded against the stack's sessile; the page's console lines are kept for failures.
 */
export async function openPage(stack) {
  const context = await stack.browser.newContext({ ignoreHTTPSErrors: true });
  const exchanges = recordExchanges(context, stack.sessile.publicUrl);
  const page = await context.newPage();
  const consoleLines = [];
  page.on("console", (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => consoleLines.push(`pageerror: ${error.message}`));
  const domain = encodeURIComponent(stack.sessile.domain);
  await page.goto(`${stack.pageServer.origin}/?domain=${domain}`, { timeout: 10_000 });
  await page.waitForSelector("body[data-ready=true]", { state: "attached", timeout: 10_000 });
  return { context, page, exchanges, consoleLines };
}

/** `client[method](...args)` in the page; the SDK's answer, or its error as `{ok: false, name, message}`. */
export function callSdk(browserPage, method, ...args) {
  return browserPage.page.evaluate(([m, a]) => window.prelude.call(m, ...a), [method, args]);
}

/** The Python side: `make setup` once when the virtual environment is missing. */
export function ensurePython() {
  if (existsSync(PYTHON)) return;
  const made = spawnSync("make", ["-C", REPO, "setup"], { stdio: "inherit", timeout: 600_000 });
  if (made.status !== 0 || !existsSync(PYTHON)) {
    throw new Error(`make -C ${REPO} setup failed (status ${made.status}); ${PYTHON} is missing`);
  }
}

export function tempDir() {
  return mkdtempSync(join(tmpdir(), "sessile-prelude-"));
}

export async function freePort() {
  const server = createNetServer();
  await new Promise((ok, fail) => server.once("error", fail).listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

/** `sessile dev-cert --out dir`: a self-signed certificate for localhost, 127.0.0.1 and ::1. */
export function devCert(dir) {
  const made = spawnSync(PYTHON, ["-m", "sessile", "dev-cert", "--out", dir], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 30_000,
  });
  if (made.status !== 0) throw new Error(`sessile dev-cert failed: ${made.stderr || made.stdout}`);
  const cert = join(dir, "dev-cert.pem");
  const key = join(dir, "dev-key.pem");
  for (const file of [cert, key]) if (!existsSync(file)) throw new Error(`sessile dev-cert wrote no ${file}`);
  return { cert, key, certPem: readFileSync(cert), keyPem: readFileSync(key) };
}

function get(url, ca, timeoutMs) {
  return new Promise((ok, fail) => {
    const parts = new URL(url);
    const req = httpsRequest(
      { host: "127.0.0.1", servername: parts.hostname, port: parts.port, path: parts.pathname, ca, timeout: timeoutMs },
      (res) => {
        res.resume();
        res.on("end", () => ok(res.statusCode));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", fail);
    req.end();
  });
}

/**
 * `sessile serve` over TLS on `port`, data in `dataDir`, CORS for `pageOrigin`.
 * Resolves once /healthz answers 200; `stop()` ends the process (and only it).
 */
export async function startSessile({ port, dataDir, cert, pageOrigin, timeoutMs = 30_000, extraEnv = {} }) {
  const publicUrl = `https://localhost:${port}`;
  // Defaults for everything else, whatever SESSILE_* the caller's shell holds.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("SESSILE_")));
  Object.assign(env, {
    SESSILE_DATA_DIR: dataDir,
    SESSILE_PUBLIC_URL: publicUrl,
    SESSILE_SECRET_KEY: randomBytes(36).toString("base64url"), // 48 characters
    SESSILE_CORS_ORIGINS: pageOrigin,
    ...extraEnv,
  });
  const child = spawn(
    PYTHON,
    ["-m", "sessile", "serve", "--host", "127.0.0.1", "--port", String(port), "--tls-cert", cert.cert, "--tls-key", cert.key],
    { cwd: dataDir, env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const keep = (chunk) => {
    output = (output + chunk).slice(-20_000);
  };
  child.stdout.setEncoding("utf8").on("data", keep);
  child.stderr.setEncoding("utf8").on("data", keep);
  let exited = null;
  // If the test process ends first (a crash, a runner timeout), take the server with it.
  const orphan = () => child.kill("SIGKILL");
  process.once("exit", orphan);
  const exit = new Promise((ok) =>
    child.once("exit", (code, signal) => {
      process.removeListener("exit", orphan);
      ok((exited = { code, signal }));
    }),
  );

  const stop = async () => {
    if (exited) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => exited || child.kill("SIGKILL"), 5_000);
    await exit;
    clearTimeout(timer);
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`sessile serve exited (${JSON.stringify(exited)}) before /healthz answered:\n${output}`);
    try {
      if ((await get(`${publicUrl}/healthz`, cert.certPem, 1_000)) === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`sessile serve did not answer /healthz within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((ok) => setTimeout(ok, 150));
  }
  return { publicUrl, domain: `localhost:${port}`, outbox: join(dataDir, "outbox.jsonl"), stop, output: () => output };
}

/**
 * The test page in `dir`: index.html, app.js (page/app.mjs with the SDK bundled in,
 * ES module) and core-worker.js from the same SDK build that app.js bundles.
 * The SDK starts `new Worker(new URL("./core-worker.js", import.meta.url))`, so the
 * worker must sit beside app.js.
 */
export async function buildPage(dir) {
  const { build } = await import("esbuild");
  const sdkEntry = require.resolve("@prelude.so/js-sdk"); // the "." export: dist/inline/index.js
  await build({
    entryPoints: [join(here, "page", "app.mjs")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outfile: join(dir, "app.js"),
    logLevel: "silent",
  });
  const bundled = readFileSync(join(dir, "app.js"), "utf8");
  if (!bundled.includes('new URL("./core-worker.js", import.meta.url)')) {
    throw new Error("the bundle no longer starts ./core-worker.js relative to import.meta.url");
  }
  copyFileSync(join(dirname(sdkEntry), "core-worker.js"), join(dir, "core-worker.js"));
  copyFileSync(join(here, "page", "index.html"), join(dir, "index.html"));
  return { sdkBuild: dirname(sdkEntry) };
}

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8" };

/** A static HTTPS server for the page directory, on 127.0.0.1:`port`. */
export async function startPageServer({ port, dir, cert }) {
  const served = [];
  const server = createHttpsServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    const path = new URL(req.url, "https://localhost").pathname;
    const name = path === "/" ? "index.html" : path.slice(1);
    const file = join(dir, name);
    served.push(path);
    if (name.includes("/") || !existsSync(file)) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Cache-Control": "no-store" });
    res.end(readFileSync(file));
  });
  await new Promise((ok, fail) => server.once("error", fail).listen(port, "127.0.0.1", ok));
  return {
    origin: `https://localhost:${port}`,
    served,
    stop: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}

/** Outbox lines so far (`{channel, to, code, text, created_at}`). */
export function readOutbox(path) {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));
}

/** The code of the first outbox line after `after` lines that goes to `to`. */
export async function waitForCode(path, to, after, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = readOutbox(path).slice(after).find((line) => line.to === to);
    if (found) return found.code;
    if (Date.now() > deadline) throw new Error(`no code for ${to} in ${path} within ${timeoutMs} ms`);
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

/**
 * Records every exchange between a browser context and `apiOrigin` in the order
 * the requests started, so that a failing step can show the exact request and
 * response. Playwright reports a finished request a little after the page sees
 * its answer: `await log.settle()` before reading the log.
 */
export function recordExchanges(context, apiOrigin) {
  const log = [];
  const entries = new Map();
  const finish = async (request, failure) => {
    const entry = entries.get(request);
    if (!entry) return;
    try {
      entry.requestHeaders = await request.allHeaders().catch(() => ({}));
      entry.requestBody = request.postData();
      if (failure) {
        entry.failure = failure;
        return;
      }
      const response = await request.response().catch(() => null);
      if (response) {
        entry.status = response.status();
        entry.responseHeaders = await response.allHeaders().catch(() => ({}));
        entry.responseBody = await response.text().catch(() => "<no body>");
      }
    } finally {
      entry.pending = false;
    }
  };
  context.on("request", (request) => {
    if (!request.url().startsWith(apiOrigin)) return;
    const entry = { method: request.method(), url: request.url(), pending: true };
    entries.set(request, entry);
    log.push(entry);
  });
  context.on("requestfinished", (request) => finish(request, null));
  context.on("requestfailed", (request) => finish(request, request.failure()?.errorText ?? "failed"));
  log.settle = async (timeoutMs = 3_000) => {
    const deadline = Date.now() + timeoutMs;
    while (log.some((e) => e.pending) && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 20));
  };
  return log;
}

const SECRET_HEADERS = new Set(["dpop", "authorization", "cookie", "set-cookie"]);

/** A readable dump of the last exchanges, with credentials shortened. */
export function formatExchanges(log, last = 8) {
  const short = (headers = {}) =>
    Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, SECRET_HEADERS.has(k.toLowerCase()) ? `${String(v).slice(0, 40)}…` : v]),
    );
  return log
    .slice(-last)
    .map((e) =>
      [
        `${e.method} ${e.url}${e.failure ? ` FAILED ${e.failure}` : e.pending ? " (no answer yet)" : ` -> ${e.status}`}`,
        `  request headers: ${JSON.stringify(short(e.requestHeaders))}`,
        e.requestBody ? `  request body: ${e.requestBody}` : null,
        e.responseHeaders ? `  response headers: ${JSON.stringify(short(e.responseHeaders))}` : null,
        e.responseBody !== undefined ? `  response body: ${String(e.responseBody).slice(0, 600)}` : null,
      ]
        .filter(Boolean)
        .join("\n"),
    )
    .join("\n");
}

export function cleanup(dir) {
  rmSync(dir, { recursive: true, force: true });
}
