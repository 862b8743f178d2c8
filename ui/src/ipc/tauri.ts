// The real host: every command is one Tauri `invoke` of its name with the generated camelCase
// arguments (the raw `participants_import` passes its Uint8Array as the request body: the web
// view never decodes the file), through the generated commandClient. The live feed is a
// Channel<FeedBatch>, and status events come through `listen`. Errors reject as {code, message}.

import { Channel, type InvokeArgs, invoke as tauriInvoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { WebviewWindow } from "@tauri-apps/api/webviewWindow";
import { getCurrentWindow } from "@tauri-apps/api/window";
import { commandClient, EVENTS, type FeedBatch, type Invoke } from "./bindings.gen";
import { ANNOUNCER_VIEW, type EventName, type EventPayloads, type Host, toIpcError, type Unsubscribe } from "./host";

async function call<T>(cmd: string, args: InvokeArgs): Promise<T> {
  try {
    return await tauriInvoke<T>(cmd, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

/** One command, by name, with its arguments object (or raw body) as Tauri takes it. */
const invoke: Invoke = (cmd, args) => call(cmd, args);

export function createTauriHost(): Host {
  return {
    kind: "tauri",
    ...commandClient(invoke),

    async subscribeFeed(cb) {
      const onBatch = new Channel<FeedBatch>();
      let live = true;
      onBatch.onmessage = (batch) => {
        if (live) cb(batch);
      };
      // The one streaming command (Streams in bindings.gen.ts): not in the command client.
      await call<void>("feed_subscribe", { onBatch });
      // There is no feed_unsubscribe command: stop delivering; the backend drops the
      // channel when a send to it fails (the webview reloaded) or keeps it harmlessly.
      return () => {
        live = false;
      };
    },

    async onEvent<K extends EventName>(name: K, cb: (payload: EventPayloads[K]) => void): Promise<Unsubscribe> {
      const un = await listen<EventPayloads[K]>(EVENTS[name], (ev) => cb(ev.payload));
      return un;
    },

    async openAnnouncer() {
      // Its own window and capability (capabilities/announcer.json); the backend lets it call
      // only what it shows. The window-state plugin puts it back where it was.
      const open = await WebviewWindow.getByLabel(ANNOUNCER_VIEW);
      if (open) {
        await open.show();
        return;
      }
      const win = new WebviewWindow(ANNOUNCER_VIEW, {
        url: `index.html?view=${ANNOUNCER_VIEW}`,
        title: "RUFUS — Announcer",
        width: 1280,
        height: 720,
        // Never the keyboard's: the console keeps every key press (its buttons still click).
        focus: false,
        focusable: false,
      });
      await new Promise<void>((resolve, reject) => {
        void win.once("tauri://created", () => resolve());
        void win.once("tauri://error", (e) => reject(toIpcError(e.payload)));
      });
      // Some window managers (and X without one) focus a new window whatever it asks: the
      // console takes the keyboard straight back.
      await getCurrentWindow().setFocus();
    },

    async setFullscreen(on) {
      await getCurrentWindow().setFullscreen(on);
    },
  };
}
