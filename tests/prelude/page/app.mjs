// The test page: Prelude's own web SDK, bundled unchanged, driven by the test
// through `window.prelude.call(method, ...args)`. No `sdkKey`, so the SDK talks
// to nothing but the `domain` the test names in the page's query string.
import { PrldSessionClient, decode } from "@prelude.so/js-sdk";

const domain = new URLSearchParams(location.search).get("domain");
const client = new PrldSessionClient({ domain });

// Every call answers a plain object, so that an SDK error reaches the test with
// its class name (BadRequestError, UnauthorizedError, ...) and message.
async function call(method, ...args) {
  try {
    return { ok: true, value: await client[method](...args) };
  } catch (error) {
    return { ok: false, name: error?.name ?? "Error", message: String(error?.message ?? error) };
  }
}

window.prelude = { domain, call, decode: (token) => decode(token).claims };
document.body.dataset.ready = "true";
