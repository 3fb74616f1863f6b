import { useEffect, useState } from "react";

import { client } from "./client.ts";

/** The user's first proven e-mail address (or phone): where step-up codes go. */
export function useContact(): string {
  const [contact, setContact] = useState("");
  useEffect(() => {
    client
      .getUser()
      .then((user) => {
        const identifiers = (user.identifiers ?? []) as {
          type: string;
          value: string;
          verified: boolean;
        }[];
        const proven = identifiers.filter((i) => i.verified);
        const email = proven.find((i) => i.type === "email_address");
        setContact((email ?? proven[0])?.value ?? "");
      })
      .catch(() => setContact(""));
  }, []);
  return contact;
}
