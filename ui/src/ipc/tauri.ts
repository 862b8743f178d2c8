// The real host: each Host method is one Tauri `invoke` of the command of the same name
// (JS argument names camelCase, as bindings.gen.ts writes them), the live feed is a
// Channel<FeedBatch>, and status events come through `listen`. Errors reject as {code, message}.

import { Channel, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { EVENTS, type FeedBatch } from "./bindings.gen";
import { type EventName, type EventPayloads, type Host, toIpcError, type Unsubscribe } from "./host";

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toIpcError(e);
  }
}

async function callRaw<T>(cmd: string, body: Uint8Array): Promise<T> {
  try {
    return await invoke<T>(cmd, body);
  } catch (e) {
    throw toIpcError(e);
  }
}

export function createTauriHost(): Host {
  return {
    kind: "tauri",
    appState: () => call("app_state"),
    settingsSet: (settings) => call("settings_set", { settings }),
    apiKeySet: (key) => call("api_key_set", { key }),
    apiKeyClear: () => call("api_key_clear"),

    deviceBind: (input) => call("device_bind", { input }),
    deviceList: () => call("device_list"),
    deviceCloudList: () => call("device_cloud_list"),
    deviceSelect: (deviceid) => call("device_select", { deviceid }),
    deviceUnbind: (deviceid, confirmed) => call("device_unbind", { deviceid, confirmed }),

    sessionOpen: (alias) => call("session_open", { alias }),
    sessionClose: () => call("session_close"),
    sessionList: () => call("session_list"),
    sessionCloudList: () => call("session_cloud_list"),
    sessionDetails: (sessionId) => call("session_details", { sessionId }),
    sessionReconcile: (sessionId) => call("session_reconcile", { sessionId }),
    sessionResendMissing: (sessionId) => call("session_resend_missing", { sessionId }),
    sessionRehome: (fromSessionId) => call("session_rehome", { fromSessionId }),
    syncRetry: () => call("sync_retry"),
    syncRetryParked: (sessionId) => call("sync_retry_parked", { sessionId }),

    feedPage: (before, limit) => call("feed_page", { before, limit }),
    async subscribeFeed(cb) {
      const onBatch = new Channel<FeedBatch>();
      let live = true;
      onBatch.onmessage = (batch) => {
        if (live) cb(batch);
      };
      await call("feed_subscribe", { onBatch });
      // There is no feed_unsubscribe command: stop delivering; the backend drops the
      // channel when a send to it fails (the webview reloaded) or keeps it harmlessly.
      return () => {
        live = false;
      };
    },

    manualMark: (bibs, pressedAt, confirmed = false) => call("manual_mark", { bibs, pressedAt, confirmed }),
    manualStamp: (pressedAt) => call("manual_stamp", { pressedAt }),
    manualAssign: (bibs, confirmed = false) => call("manual_assign", { bibs, confirmed }),
    manualQueue: (bibs, confirmed = false) => call("manual_queue", { bibs, confirmed }),
    manualStampQueued: (pressedAt) => call("manual_stamp_queued", { pressedAt }),
    manualUndo: () => call("manual_undo"),

    passingCorrect: (num, change, reason) => call("passing_correct", { num, change, reason }),
    passingAudit: (passingId) => call("passing_audit", { passingId }),

    readerProtocols: () => call("reader_protocols"),
    readerPorts: () => call("reader_ports"),
    readerAdd: (name, spec) => call("reader_add", { name, spec }),
    readerRemove: (name) => call("reader_remove", { name }),
    readerStart: (name) => call("reader_start", { name }),
    readerStop: (name) => call("reader_stop", { name }),
    readerSetClock: (name) => call("reader_set_clock", { name }),
    readerFrames: (name) => call("reader_frames", { name }),
    readerZones: () => call("reader_zones"),
    readerSetZone: (name, zone) => call("reader_set_zone", { name, zone }),
    readerAdjust: (name, ms) => call("reader_adjust", { name, ms }),

    // The raw bytes are the request body: the web view never decodes the file.
    participantsImport: (bytes) => callRaw("participants_import", bytes),
    exportCsv: (what) => call("export_csv", { what }),

    updateStatus: () => call("update_status"),
    updateInstall: () => call("update_install"),

    async onEvent<K extends EventName>(name: K, cb: (payload: EventPayloads[K]) => void): Promise<Unsubscribe> {
      const un = await listen<EventPayloads[K]>(EVENTS[name], (ev) => cb(ev.payload));
      return un;
    },
  };
}
