// The mock's sync engine and its commands: each step drains pending → sent at the simulated
// cloud's rate (sessions get their token, closing ones close once drained, bibs RUFUS refuses
// are parked), a backlog while offline, a pause after 401/403; "Retry now" and re-sending parked.

import type { SyncCommands } from "../bindings.gen";
import { isoUtc, randomHex } from "./data";
import type { MockWorld } from "./world";

/** Bibs RUFUS accepts (the mock's cloud parks the others with a 400). */
const CLOUD_BIB_RE = /^[A-Za-z0-9]{1,10}$/;

/** One step of the sync engine, dt ms after the last one. */
export function stepSync(w: MockWorld, t: number, dt: number): void {
  if (!w.apiKey || w.stopped) return;
  if (!w.online) {
    if (w.outbox.size > 0) {
      w.lastError = "No answer from RUFUS within 10 s (network down?). Retrying with back-off.";
      w.lastErrorCode = "timeout";
    }
    return;
  }
  // Sessions get their cloud token, closing sessions close once drained.
  for (const s of w.sessions) {
    if (s.state === "opening" && t - Date.parse(s.opened_at) >= 300) {
      s.token_session = `tk_${randomHex(w.r, 6)}`;
      s.state = "active";
      s.note = null;
      const cloud = w.account.find((d) => d.deviceid === s.deviceid);
      if (cloud) cloud.sessions = (cloud.sessions ?? 0) + 1;
      w.emitSession();
    }
  }
  w.syncCarry += (w.syncRate * dt) / 1000;
  let budget = Math.floor(w.syncCarry);
  w.syncCarry -= budget;
  let sent = 0;
  if (budget > 0) {
    for (const p of w.outbox) {
      if (budget <= 0) break;
      const s = w.sessionById(p.session_id);
      if (!s.token_session || s.state === "closed_remotely" || s.state === "closed") continue;
      if (w.isHeld(p)) continue;
      budget--;
      const bib = p.bib;
      if (bib !== null && !CLOUD_BIB_RE.test(bib)) {
        p.sync_state = "parked";
        p.sync_attempts++;
        p.sync_error = `400 Bad Request: bib "${bib}" is not valid in RUFUS (letters and digits, at most 10)`;
        w.outbox.delete(p);
        w.touch(p);
        continue;
      }
      w.markSent(p, true);
      const cloud = w.account.find((d) => d.deviceid === s.deviceid);
      if (cloud) cloud.passings = (cloud.passings ?? 0) + 1;
      sent++;
    }
  }
  if (sent > 0) {
    w.sentLog.push({ at: t, n: sent });
    w.lastSuccess = isoUtc(t);
    w.lastError = null;
    w.lastErrorCode = null;
  }
  for (const s of w.sessions) {
    if (s.state !== "closing" || !s.token_session) continue;
    const left = (w.bySession.get(s.id) ?? []).some((p) => p.sync_state === "pending" && !w.isHeld(p));
    if (!left) {
      s.state = "closed";
      s.closed_at = isoUtc(t);
      s.note = null;
      w.emitSession();
    }
  }
}

export function syncHandlers(w: MockWorld): SyncCommands {
  return {
    async sync_retry() {
      w.retries++;
      // As the backend: the wait ends now; a pause ends only if the cloud now accepts the key.
      if (w.stopped && !w.authBroken) {
        w.stopped = null;
        w.lastError = null;
        w.lastErrorCode = null;
      }
      if (w.online && !w.stopped) {
        w.lastError = null;
        w.lastErrorCode = null;
      }
      w.emitStatus(true);
    },

    async sync_retry_parked({ sessionId }) {
      let n = 0;
      for (const [sid, list] of w.bySession) {
        if (sessionId !== null && sid !== sessionId) continue;
        for (const p of list) {
          if (p.sync_state !== "parked") continue;
          p.sync_state = "pending";
          p.sync_error = null;
          w.outbox.add(p);
          w.touch(p);
          n++;
        }
      }
      w.emitStatus(true);
      return n;
    },
  };
}

/** Test hooks of the sync domain. */
export function syncControls(w: MockWorld) {
  return {
    /** Passings per second the simulated cloud accepts. */
    setSyncRate(perSecond: number): void {
      w.syncRate = Math.max(0, perSecond);
    },

    /** Simulate the venue's 4G dropping (false) and coming back (true). */
    setOnline(online: boolean): void {
      w.online = online;
      if (online) {
        w.lastError = null;
        w.lastErrorCode = null;
      }
    },

    /** Stop syncing as a 401/403 would. */
    failSync(code: "unauthorized" | "forbidden" = "unauthorized"): void {
      w.authBroken = true;
      w.stopped =
        code === "unauthorized"
          ? "RUFUS refused the API key (401). Enter a valid key in Settings."
          : "The API key lacks the passings permission (403). Ask the account owner to add it.";
      w.lastError = w.stopped;
      w.lastErrorCode = code;
    },

    /** The account owner fixed the key's permissions: the next retry (or the minute's retry) resumes. */
    restoreAccess(): void {
      w.authBroken = false;
    },
  };
}
