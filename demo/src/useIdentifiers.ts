import { useCallback, useEffect, useState } from "react";
import type { IdentifierInfo } from "sessile";

import { client } from "./client.ts";

/** The user's e-mail addresses and phone numbers (`listIdentifiers`), and a reload. */
export function useIdentifiers() {
  const [identifiers, setIdentifiers] = useState<IdentifierInfo[]>([]);

  const reload = useCallback(
    () =>
      client
        .listIdentifiers()
        .then((list) => setIdentifiers(list.identifiers))
        .catch(() => setIdentifiers([])),
    [],
  );

  useEffect(() => {
    void reload();
  }, [reload]);

  return { identifiers, reload };
}
