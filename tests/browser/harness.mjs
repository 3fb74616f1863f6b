// A real sessile server and a real Chromium for the browser tests: each test
// file starts one server on a free loopback port with its own data directory,
// and one headless Chromium from the system (playwright-core never downloads one).

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";
import { CHROMIUM_ARGS } from "../chromium.mjs";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const ARTIFACTS = join(REPO, "tests/browser/artifacts");
const CHROMIUM = process.env.SESSILE_CHROMIUM ?? "/usr/bin/chromium";
const PYTHON = join(REPO, ".venv/bin/python");
const DEMO_DIR = join(REPO, "demo/dist");
const STARTUP_MS = 30_000;
const STOP_MS = 5_000;

/**
 * Options for a file's top-level `describe`: skipped with the reason when
 * Chromium is missing, unless SESSILE_TEST_REQUIRE_SERVICES=1 makes that a failure.
 */
export function needsChromium() {
  if (existsSync(CHROMIUM)) return {};
  const reason = `${CHROMIUM} is missing (install Debian's chromium package)`;
  if (process.env.SESSILE_TEST_REQUIRE_SERVICES === "1") {
    before(() => {
      throw new Error(`${reason}, and SESSILE_TEST_REQUIRE_SERVICES=1`);
    });
    return {};
  }
  return { skip: reason };
}

/**
 * What most test files start with: before their tests, a server (started with `env`) and
 * Chromium, handed to `use`; after them, both stopped.
 */
export function withServerAndBrowser(env, use) {
  let server;
  let browser;
  before(async () => {
    server = await startServer(env);
    browser = await launchChromium();
    use({ server, browser });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

/** `python -m sessile serve --demo --demo-outbox` on `port` (else a free one), with a fresh data directory. */
export async function startServer(env = {}, { port: chosenPort } = {}) {
  if (!existsSync(join(DEMO_DIR, "index.html"))) {
    throw new Error(`${DEMO_DIR} is not built: run npm ci && npm run build in sdk/js, then demo/`);
  }
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run uv sync in ${REPO}`);
  const port = chosenPort ?? (await freePort());
  const dataDir = await mkdtemp(join(tmpdir(), "sessile-browser-"));
  const url = `http://127.0.0.1:${port}`;
  const args = ["-m", "sessile", "serve", "--demo", "--demo-outbox", "--port", String(port)];
  const child = spawn(PYTHON, args, {
    cwd: REPO,
    env: {
      ...process.env,
      SESSILE_DATA_DIR: dataDir,
      SESSILE_PUBLIC_URL: url,
      SESSILE_COOKIE_INSECURE_DEV: "true",
      SESSILE_COOKIE_NAME: "sessile_refresh",
      SESSILE_DEMO_DIR: DEMO_DIR,
      SESSILE_SECRET_KEY: randomBytes(24).toString("hex"),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const keep = (chunk) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const exited = new Promise((resolveExit) => child.once("exit", resolveExit));

  const server = {
    url,
    dataDir,
    outbox: join(dataDir, "outbox.jsonl"),
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_MS);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + STARTUP_MS;
  for (;;) {
    if (child.exitCode !== null) {
      await server.stop();
      throw new Error(`sessile serve exited with ${child.exitCode}:\n${log}`);
    }
    try {
      const response = await fetch(`${url}/.well-known/jwks.json`, {
        signal: AbortSignal.timeout(1000),
      });
      if (response.ok) return server;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`sessile serve did not answer within ${STARTUP_MS} ms:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

/** A fresh browser profile (context) with one page, with short timeouts so failures are quick. */
export async function newPage(browser, server) {
  const context = await browser.newContext({ baseURL: server.url });
  context.setDefaultTimeout(10_000);
  return context.newPage();
}

/** The messages in the development outbox file, oldest first. */
export async function outbox(server) {
  const text = await readFile(server.outbox, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/**
 * The newest code sent to `to`, once there are more than `seen` messages to it
 * (by default, any), or once it differs from `notCode`.
 */
export async function codeFor(server, to, { seen = 0, notCode = undefined } = {}) {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const mine = (await outbox(server)).filter((m) => m.to === to);
    const latest = mine.at(-1);
    if (latest && mine.length > seen && latest.code !== notCode) return latest.code;
    if (Date.now() > deadline) throw new Error(`no new code for ${to} in ${server.outbox}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The claims the "Logged in" page shows, once it shows them. */
export async function shownClaims(page) {
  const claims = page.getByTestId("claims");
  await claims.waitFor();
  return JSON.parse(await claims.textContent());
}

export async function loginByOtp(page, server, email) {
  await page.goto("/");
  await page.getByTestId("identifier").fill(email);
  const seen = (await outbox(server)).filter((m) => m.to === email).length;
  await page.getByTestId("send-code").click();
  await page.getByTestId("code").fill(await codeFor(server, email, { seen }));
  await page.getByTestId("verify").click();
  return shownClaims(page);
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
