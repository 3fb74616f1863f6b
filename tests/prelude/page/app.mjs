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

// Step-up as Prelude's web guides write it: `requestStepUp` with an `onChallenge`
// callback that sends the code when the current step is a managed OTP step, then
// `otpCheck` with the code the user typed. The SDK refreshes by itself once the
// challenge reads "completed". Every callback is kept for the test to read.
const challenges = [];

function onChallenge(info) {
  challenges.push(info);
  if (info.currentStep === "verify_email" || info.currentStep === "verify_sms") {
    client.otpCreate({ challengeId: info.challengeId }).catch((error) => {
      challenges.push({ error: String(error?.message ?? error) });
    });
  }
}

const stepUp = {
  request: (options) => call("requestStepUp", { ...options, onChallenge }),
  check: (challengeId, code) => call("otpCheck", challengeId, code, onChallenge),
  challenges: () => challenges.slice(),
};

window.prelude = { domain, call, stepUp, decode: (token) => decode(token).claims };
document.body.dataset.ready = "true";
