import { useState } from "react";

import { describe } from "./client.ts";

/**
 * Run one user action at a time: `busy` while it runs, and its failure, described,
 * in `error`. `onStart` clears whatever else the caller shows about the last action.
 */
export function useTask(onStart?: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (task: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    onStart?.();
    try {
      await task();
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };

  return { busy, error, setError, run };
}
