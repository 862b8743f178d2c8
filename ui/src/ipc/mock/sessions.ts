// The mock's session commands: open (offline too, on the stand-in device before a bind), close
// once drained, the local and cloud lists, details with the outbox, reconcile with the cloud,
// re-send what it lost and re-home the pending passings of a session closed from elsewhere.

import type { CloudSession, OutboxCounts, SessionCommands } from "../bindings.gen";
import { isoUtc } from "./data";
import { localDevice } from "./devices";
import { clone, err, type MockWorld } from "./world";

function outboxCounts(w: MockWorld, sessionId: number | null): OutboxCounts {
  const c: OutboxCounts = { pending: 0, sent: 0, parked: 0, held: 0 };
  const lists = sessionId === null ? [...w.bySession.values()] : [w.bySession.get(sessionId) ?? []];
  for (const list of lists)
    for (const p of list) {
      if (p.sync_state === "pending") {
        if (w.isHeld(p)) c.held++;
        else c.pending++;
      } else if (p.sync_state === "sent") c.sent++;
      else if (p.sync_state === "parked") c.parked++;
    }
  return c;
}

export function sessionHandlers(w: MockWorld): SessionCommands {
  return {
    async session_open({ alias }) {
      // First run with no device: record on this console now; binding later adopts the session.
      const dev = w.currentDevice() ?? localDevice(w);
      const cur = w.currentSession();
      if (cur && w.isRecording(cur)) throw err("invalid", `Session "${cur.alias ?? cur.id}" is already open: close it first`);
      const s = w.createSession(dev.deviceid, alias?.trim() || null);
      w.emitSession();
      return clone(s);
    },

    async session_close() {
      const s = w.currentSession();
      if (!s || !w.isRecording(s)) throw err("no_open_session", "No session is open");
      s.state = "closing";
      s.note = w.apiKey ? "Sending the last passings, then closing in RUFUS" : "Waiting for an API key to send the last passings";
      w.queue = [];
      w.undo = [];
      w.emitSession();
      return clone(s);
    },

    async session_list() {
      return clone(w.sessions.slice().reverse());
    },

    async session_cloud_list() {
      w.requireKey();
      const dev = w.currentDevice();
      if (!dev) throw err("no_device", "No device is bound");
      const fromHere: CloudSession[] = w.sessions
        .filter((s) => s.deviceid === dev.deviceid && s.token_session)
        .map((s) => ({
          token_session: s.token_session as string,
          alias: s.alias,
          active: s.state === "active" || s.state === "closing",
          passings: (w.bySession.get(s.id) ?? []).filter((p) => p.in_cloud).length,
          creation_date: s.opened_at.replace("T", " ").slice(0, 19),
        }))
        .reverse();
      return clone([...fromHere, ...(w.accountSessions.get(dev.deviceid) ?? [])]);
    },

    async session_details({ sessionId }) {
      const s = w.sessionById(sessionId);
      return clone({ session: s, outbox: outboxCounts(w, s.id) });
    },

    async session_reconcile({ sessionId }) {
      w.requireKey();
      const s = w.sessionById(sessionId);
      if (!s.token_session) throw err("invalid", "This session has not been created in RUFUS yet");
      const list = (w.bySession.get(s.id) ?? []).filter((p) => p.sync_state !== "moved");
      return {
        session_id: s.id,
        local: list.length,
        cloud: list.filter((p) => p.in_cloud).length,
        missing_in_cloud: list.filter((p) => p.sync_state === "sent" && !p.in_cloud).map((p) => p.num_passing),
        pending: list.filter((p) => p.sync_state === "pending").map((p) => p.num_passing),
        unknown_in_cloud: [],
      };
    },

    async session_resend_missing({ sessionId }) {
      w.requireKey();
      const s = w.sessionById(sessionId);
      let n = 0;
      for (const p of w.bySession.get(s.id) ?? []) {
        if (p.sync_state === "sent" && !p.in_cloud) {
          p.sync_state = "pending";
          p.sent_at = null;
          w.sentTotal--;
          w.outbox.add(p);
          w.touch(p);
          n++;
        }
      }
      return n;
    },

    async session_rehome({ fromSessionId }) {
      const from = w.sessionById(fromSessionId);
      if (from.state !== "closed_remotely")
        throw err("invalid", "Only a session that RUFUS closed from elsewhere can have its passings moved");
      const cur = w.currentSession();
      if (cur && w.isRecording(cur) && cur.id !== from.id) throw err("invalid", "Close the open session first");
      const to = w.createSession(from.deviceid, `${from.alias ?? `Session ${from.id}`} (continued)`);
      let n = 0;
      for (const p of w.bySession.get(from.id) ?? []) {
        if (p.sync_state !== "pending") continue;
        w.outbox.delete(p);
        p.sync_state = "moved";
        w.touch(p);
        const np = w.commitPassing(to, {
          bib: p.eff_bib,
          chip: p.chip,
          time: Date.parse(p.eff_time),
          source: p.source,
          rawReadId: p.raw_read_id,
        });
        np.moved_from_id = p.id;
        w.corrections.push({
          id: w.nextCorrectionId++,
          passing_id: p.id,
          kind: "move",
          old_value: `session ${from.id} #${p.num_passing}`,
          new_value: `session ${to.id} #${np.num_passing}`,
          operator: w.settings.operator || "operator",
          station: w.settings.station,
          reason: "session closed in RUFUS from elsewhere",
          at: isoUtc(w.now()),
          carrier_id: null,
        });
        n++;
      }
      from.note = `${n} pending passings moved to session ${to.id}`;
      w.emitSession();
      return n;
    },
  };
}

/** Test hooks of the sessions domain. */
export function sessionControls(w: MockWorld) {
  return {
    /** The cloud closes the open session from elsewhere (another device opened one). */
    closeRemotely(): void {
      const s = w.currentSession();
      if (!s || !w.isRecording(s)) return;
      const pending = (w.bySession.get(s.id) ?? []).filter((p) => p.sync_state === "pending").length;
      s.state = "closed_remotely";
      s.closed_at = isoUtc(w.now());
      s.note = `Closed in RUFUS from elsewhere while ${pending} passings were waiting to be sent.`;
      w.emitSession();
    },

    /** The cloud silently lost n passings it had acknowledged (to exercise reconcile). */
    loseInCloud(n: number): number[] {
      const s = w.currentSession();
      if (!s) return [];
      const held = (w.bySession.get(s.id) ?? []).filter((p) => p.in_cloud);
      const lost: number[] = [];
      for (let i = 0; i < n && held.length > 0; i++) {
        const p = held.splice(Math.floor(w.r() * held.length), 1)[0];
        p.in_cloud = false;
        lost.push(p.num_passing);
      }
      return lost.sort((a, b) => a - b);
    },
  };
}
