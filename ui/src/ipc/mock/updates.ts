// The mock's updater: off unless a (fake) update server offers a version; install only while
// the console is idle (decided by the same rule as src-tauri `updates::blocked_reason`).

import type { UpdateCommands } from "../bindings.gen";
import { isoUtc } from "./data";
import { err, type MockWorld, updateBlockedReason } from "./world";

export function updateHandlers(w: MockWorld): UpdateCommands {
  return {
    async update_status() {
      return w.updateView();
    },

    async update_install() {
      const u = w.updates;
      if (!u.enabled) throw err("updates_disabled", "this build does not check for updates: install a new version by hand");
      if (u.available === null) throw err("no_update", "no update is available");
      // As the backend: decided now, whatever the screen showed.
      const why = updateBlockedReason(w.updateFacts());
      if (why !== null)
        throw err(
          "busy",
          `Not now: ${why}. An update is installed only between races: close the session and let every passing sync first.`,
        );
      w.updates = { ...u, installed: u.available, available: null, notes: null };
      w.emitUpdate(true);
      return w.updateView();
    },
  };
}

/** Test hooks of the updates domain. */
export function updateControls(w: MockWorld) {
  return {
    /**
     * The update server offers this version (turns updates on, as a build with an update
     * endpoint whose background check found it).
     */
    offerUpdate(version = "0.2.0", notes: string | null = "Faster sync after an outage.\nClearer reader warnings."): void {
      w.updates = {
        ...w.updates,
        enabled: true,
        available: version,
        notes,
        checkedAt: isoUtc(w.now()),
        lastError: null,
      };
      w.emitUpdate(true);
    },

    /** A background update check failed (the venue is offline); turns updates on. */
    failUpdateCheck(reason = "error sending request for url (https://updates.example/latest.json)"): void {
      w.updates = { ...w.updates, enabled: true, checkedAt: isoUtc(w.now()), lastError: reason };
      w.emitUpdate(true);
    },
  };
}
