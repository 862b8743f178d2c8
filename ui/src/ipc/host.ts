// The Host interface: the one typed surface between the UI and whatever runs the console
// (the real Tauri backend in tauri.ts, or the in-memory mock in mock/). Its commands are the
// generated CommandClient (bindings.gen.ts: one camelCase method per command, with the
// command's documentation), built by both hosts over their own Invoke; the rest is what is not
// a command: the live feed and the status events. Nothing outside src/ipc/ knows how these
// calls travel.

import type { CommandClient, EVENTS, FeedBatch, EventPayloads as GeneratedEventPayloads, IpcError } from "./bindings.gen";

export type * from "./bindings.gen";

/** Payloads of the status events by short name, derived from the generated URI-keyed map. */
export type EventPayloads = {
  [K in keyof typeof EVENTS]: GeneratedEventPayloads[(typeof EVENTS)[K]];
};

export type EventName = keyof EventPayloads;
export type Unsubscribe = () => void;

export interface Host extends CommandClient {
  /** "tauri" for the real app, "mock" for the in-memory host. */
  readonly kind: "tauri" | "mock";

  /** Live feed (`feed_subscribe`): new or changed entries as they change (at most one batch per FEED_GAP_MS), newest last. */
  subscribeFeed(cb: (batch: FeedBatch) => void): Promise<Unsubscribe>;

  /** A status event (sync, readers, session, clock, capture, update) as it happens. */
  onEvent<K extends EventName>(name: K, cb: (payload: EventPayloads[K]) => void): Promise<Unsubscribe>;

  /**
   * Opens the announcer window (or shows it where it was); it never takes the keyboard focus
   * from the window it was opened from.
   */
  openAnnouncer(): Promise<void>;

  /** Full screen on or off for the window this page is in. */
  setFullscreen(on: boolean): Promise<void>;
}

/** The page's query parameter that shows the announcer view instead of the console. */
export const ANNOUNCER_VIEW = "announcer";

/** True when a rejected value is the backend's `{code, message}` error. */
export function isIpcError(e: unknown): e is IpcError {
  return (
    typeof e === "object" && e !== null && typeof (e as IpcError).code === "string" && typeof (e as IpcError).message === "string"
  );
}

/** Normalise anything a call rejected with into an IpcError. */
export function toIpcError(e: unknown): IpcError {
  if (isIpcError(e)) return e;
  if (e instanceof Error) return { code: "internal", message: e.message };
  if (typeof e === "string") return { code: "internal", message: e };
  return { code: "internal", message: String(e) };
}
