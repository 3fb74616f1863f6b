import { useEffect, useState } from "react";

interface OutboxMessage {
  channel: "email" | "sms";
  to: string;
  code: string;
  text: string;
  created_at: string;
}

interface Outbox {
  path: string;
  messages: OutboxMessage[];
}

/** How the server writes an identifier (lower-cased e-mail, phone digits), to match the outbox's `to`. */
function normalise(identifier: string): string {
  const value = identifier.trim().toLowerCase();
  return value.includes("@") ? value : value.replace(/[^\d+]/g, "");
}

/**
 * Development only: with `SESSILE_DELIVERY=outbox` the server keeps codes in a
 * file instead of sending them, and `GET /demo/outbox` (`sessile serve --demo
 * --demo-outbox`, local requests only) shows the last ones, so a newcomer can log
 * in without real e-mail or SMS. Hidden when the route is absent or refuses.
 */
export function DevOutbox({
  identifier,
  version,
}: {
  identifier: string;
  version: number;
}) {
  const [outbox, setOutbox] = useState<Outbox | null>(null);

  useEffect(() => {
    let live = true;
    const load = () =>
      fetch("/demo/outbox")
        .then((response) =>
          response.ok ? (response.json() as Promise<Outbox>) : null,
        )
        .then((data) => live && setOutbox(data))
        .catch(() => live && setOutbox(null));
    void load();
    const timer = setInterval(() => void load(), 2000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [version]);

  if (!outbox) return null;
  const wanted = normalise(identifier);
  const latest = wanted
    ? outbox.messages.find((m) => normalise(m.to) === wanted)
    : undefined;
  return (
    <aside className="outbox" data-testid="dev-outbox">
      <article>
        <p>
          Development: codes are written to{" "}
          <code data-testid="outbox-path">{outbox.path}</code>
        </p>
        {latest ? (
          <p>
            Latest code for {latest.to}:{" "}
            <strong data-testid="outbox-code">{latest.code}</strong>{" "}
            <small>({new Date(latest.created_at).toLocaleTimeString()})</small>
          </p>
        ) : (
          <p>
            <small>No code sent to this identifier yet.</small>
          </p>
        )}
      </article>
    </aside>
  );
}
