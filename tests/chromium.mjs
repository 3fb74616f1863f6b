// What the browser and Prelude suites share about the system's Chromium: the flags for a
// headless run in a container, with no background traffic.

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
