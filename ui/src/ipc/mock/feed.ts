// The mock's feed and manual-entry commands: feed pages and live batches, the three manual
// modes (mark, stamp then assign, queue then stamp) with key press times bounded as the backend
// bounds them, undo, and corrections (in place while pending, a carrier passing once sent).

import type {
  ChangeInput,
  Corrected,
  Correction,
  Entry,
  FeedBatch,
  FeedCommands,
  FeedEntry,
  ManualResult,
  Passing,
  PressedAt,
  Session,
  Warning,
} from "../bindings.gen";
import { isoUtc } from "./data";
import { raceTimeMs } from "./race";
import { BIB_RE, clone, err, type MockPassing, type MockWorld } from "./world";

const FEED_BATCH_CAP = 5000;
/** More bibs than this in one entry ask for a confirmation (timing_core::manual::CONFIRM_ABOVE). */
export const CONFIRM_ABOVE = 50;
/** How old / how far ahead a key press time may be (timing_core::engine::KEY_PRESS_*). */
const KEY_PRESS_PAST_MS = 120_000;
const KEY_PRESS_FUTURE_MS = 2_000;

function feedEntry(w: MockWorld, p: MockPassing): FeedEntry {
  const bib = p.eff_bib;
  const ru = bib ? w.participants.get(bib) : undefined;
  return {
    id: p.id,
    session_id: p.session_id,
    num_passing: p.num_passing,
    bib,
    chip: p.chip,
    name: ru?.name ?? null,
    category: ru?.category ?? null,
    wave: ru ? ru.wave : null,
    race_time_ms: raceTimeMs(w, p.session_id, ru?.wave ?? "", p.eff_time),
    timestamp: p.eff_time,
    source: p.source,
    void: p.voided,
    corrected: p.corrected,
    unknown_chip: p.source === "reader" && p.chip !== null && w.participants.size > 0 && !w.chipMap.has(p.chip),
    sync_state: p.sync_state,
    sync_error: p.sync_error,
  };
}

/** Deliver pending feed changes now (world.feedPending's timer, and tick()). */
export function flushFeed(w: MockWorld): void {
  if (w.changed.size === 0 && w.rawSince === 0 && !w.reread) return;
  const entries: FeedEntry[] = [];
  for (const [id, p] of w.changed) {
    entries.push(feedEntry(w, p));
    w.changed.delete(id);
    if (entries.length >= FEED_BATCH_CAP) break;
  }
  const batch: FeedBatch = { entries, raw_reads: w.rawSince, duplicates: w.dupSince, reread: w.reread };
  w.reread = false;
  w.rawSince = 0;
  w.dupSince = 0;
  for (const cb of w.feedSubs) cb(batch);
}

function parseBibs(text: string, allowEmpty: boolean, confirmed = false): string[] {
  const list = text
    .split(/[,\s]+/)
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (list.length === 0 && !allowEmpty) throw err("invalid", "Type at least one bib");
  for (const b of list) if (!BIB_RE.test(b)) throw err("invalid", `"${b}" is not a bib (letters, digits and - only, at most 12)`);
  if (list.length > CONFIRM_ABOVE && !confirmed)
    throw err("confirmation_required", `${list.length} bibs in one entry: confirm to record them all`);
  return list;
}

/** The key press time when the host clock vouches for it, else now and why (as the backend). */
function stampTime(w: MockWorld, at: PressedAt | null): { time: number; warning: string | null } {
  const now = w.now();
  const pressedAt = typeof at === "string" ? Date.parse(at) : at;
  if (pressedAt === null || !Number.isFinite(pressedAt)) return { time: now, warning: null };
  if (pressedAt > now + KEY_PRESS_FUTURE_MS)
    return { time: now, warning: `the key press time ${isoUtc(pressedAt)} is ahead of this computer's clock; stamped now` };
  if (now - pressedAt > KEY_PRESS_PAST_MS)
    return { time: now, warning: `the key press time ${isoUtc(pressedAt)} is too old to trust; stamped now` };
  return { time: pressedAt, warning: null };
}

function stamped(entry: Entry, timeWarning: string | null): ManualResult {
  return { ...entry, time_warning: timeWarning };
}

function warningsFor(w: MockWorld, s: Session, bibs: string[]): Warning[] {
  const out: Warning[] = [];
  const list = w.bySession.get(s.id) ?? [];
  const seenNow = new Set<string>();
  for (const bib of bibs) {
    if (w.participants.size > 0 && !w.participants.has(bib)) out.push({ kind: "unknown_bib", bib });
    const earlier = list.find((p) => p.eff_bib === bib && !p.voided);
    if (earlier) out.push({ kind: "repeated_bib", bib, earlier_num: earlier.num_passing });
    else if (seenNow.has(bib)) out.push({ kind: "repeated_bib", bib, earlier_num: s.next_num_passing });
    seenNow.add(bib);
  }
  return out;
}

function plain(p: MockPassing): Passing {
  return {
    id: p.id,
    session_id: p.session_id,
    num_passing: p.num_passing,
    bib: p.bib,
    chip: p.chip,
    timestamp: p.timestamp,
    source: p.source,
    status: p.status,
    raw_read_id: p.raw_read_id,
    corrects_id: p.corrects_id,
    moved_from_id: p.moved_from_id,
    sync_state: p.sync_state,
    sync_error: p.sync_error,
    sync_attempts: p.sync_attempts,
    sent_at: p.sent_at,
    created_at: p.created_at,
  };
}

function entry(w: MockWorld, passings: MockPassing[], warnings: Warning[]): Entry {
  return clone({ passings: passings.map(plain), warnings, queued: w.queue });
}

function stampBibless(w: MockWorld, s: Session, time: number): Entry {
  const p = w.commitPassing(s, { bib: null, chip: null, time, source: "manual", rawReadId: null });
  w.undo.push({ kind: "passings", ids: [p.id], requeue: null });
  return entry(w, [p], []);
}

function audit(
  w: MockWorld,
  p: MockPassing,
  kind: Correction["kind"],
  oldV: string | null,
  newV: string | null,
  reason: string | null,
  carrier: MockPassing | null,
): Correction {
  const c: Correction = {
    id: w.nextCorrectionId++,
    passing_id: p.id,
    kind,
    old_value: oldV,
    new_value: newV,
    operator: w.settings.operator || "operator",
    station: w.settings.station,
    reason,
    at: isoUtc(w.now()),
    carrier_id: carrier?.id ?? null,
  };
  w.corrections.push(c);
  return c;
}

function setBib(w: MockWorld, p: MockPassing, bib: string | null, reason: string | null, audited: boolean): void {
  const old = p.eff_bib;
  p.eff_bib = bib;
  if (p.sync_state === "pending" || p.sync_state === "parked") p.bib = bib;
  if (audited) audit(w, p, "set_bib", old, bib, reason, null);
  w.touch(p);
}

/** A correction: in place while the cloud has not seen the passing, else a carrier passing. */
function applyChange(w: MockWorld, p: MockPassing, change: ChangeInput, reason: string | null): Corrected {
  const inPlace = p.sync_state === "pending" || p.sync_state === "parked";
  let oldV: string | null;
  let newV: string | null;
  switch (change.kind) {
    case "set_bib":
      oldV = p.eff_bib;
      newV = change.bib?.trim() || null;
      p.eff_bib = newV;
      if (inPlace) p.bib = newV;
      break;
    case "set_time":
      oldV = p.eff_time;
      newV = isoUtc(Date.parse(change.time));
      p.eff_time = newV;
      break;
    case "void":
      oldV = "valid";
      newV = "void";
      p.voided = true;
      if (inPlace) p.status = "void";
      break;
    default:
      oldV = "void";
      newV = "valid";
      p.voided = false;
      if (inPlace) p.status = null;
      break;
  }
  p.corrected = true;
  let carrier: MockPassing | null = null;
  if (inPlace) {
    if (p.sync_state === "parked") {
      p.sync_state = "pending";
      p.sync_error = null;
      w.outbox.add(p);
    }
  } else {
    const s = w.sessionById(p.session_id);
    carrier = w.commitPassing(s, {
      bib: p.eff_bib,
      chip: p.chip,
      time: Date.parse(p.eff_time),
      source: p.source,
      rawReadId: p.raw_read_id,
    });
    carrier.corrects_id = p.id;
    carrier.status = p.voided ? `void #${p.num_passing}` : `correction of #${p.num_passing}`;
    w.changed.delete(carrier.id);
  }
  const correction = audit(w, p, change.kind, oldV, newV, reason, carrier);
  w.touch(p);
  return { correction, carrier: carrier ? plain(carrier) : null };
}

export function feedHandlers(w: MockWorld): FeedCommands {
  return {
    async feed_page({ before, limit }) {
      const s = w.currentSession();
      if (!s) return [];
      const list = w.bySession.get(s.id) ?? [];
      // list is in num_passing order with num = index + 1
      const end = before === null ? list.length : Math.min(list.length, Math.max(0, before - 1));
      const start = Math.max(0, end - Math.max(1, Math.min(limit, 10_000)));
      return list
        .slice(start, end)
        .filter((p) => p.corrects_id === null)
        .map((p) => feedEntry(w, p));
    },

    async manual_mark({ bibs, pressedAt, confirmed }) {
      const s = w.requireRecording();
      const list = parseBibs(bibs, true, confirmed ?? false);
      const { time, warning } = stampTime(w, pressedAt);
      if (list.length === 0) return stamped(stampBibless(w, s, time), warning);
      const warnings = warningsFor(w, s, list);
      const made = list.map((bib) => w.commitPassing(s, { bib, chip: null, time, source: "manual", rawReadId: null }));
      w.undo.push({ kind: "passings", ids: made.map((p) => p.id), requeue: null });
      return stamped(entry(w, made, warnings), warning);
    },

    async manual_stamp({ pressedAt }) {
      const s = w.requireRecording();
      const { time, warning } = stampTime(w, pressedAt);
      return stamped(stampBibless(w, s, time), warning);
    },

    async manual_assign({ bibs, confirmed }) {
      const s = w.requireRecording();
      const list = parseBibs(bibs, false, confirmed ?? false);
      const waiting = (w.bySession.get(s.id) ?? []).filter((p) => p.source === "manual" && p.eff_bib === null && !p.voided);
      // The backend answers `conflict` here (the input is fine; the state does not allow it).
      if (waiting.length === 0) throw err("conflict", "No stamped time is waiting for a bib");
      if (list.length > waiting.length)
        throw err(
          "conflict",
          `${list.length} bibs typed but only ${waiting.length} stamped time${waiting.length === 1 ? " is" : "s are"} waiting`,
        );
      const warnings = warningsFor(w, s, list);
      const changed: MockPassing[] = [];
      list.forEach((bib, i) => {
        const p = waiting[i];
        setBib(w, p, bib, null, false);
        changed.push(p);
      });
      w.undo.push({ kind: "assign", ids: changed.map((p) => p.id) });
      return entry(w, changed, warnings);
    },

    async manual_queue({ bibs, confirmed }) {
      const s = w.requireRecording();
      const list = parseBibs(bibs, false, confirmed ?? false);
      const warnings = warningsFor(w, s, list);
      w.queue.push(...list);
      w.undo.push({ kind: "queue", bibs: list });
      return entry(w, [], warnings);
    },

    async manual_stamp_queued({ pressedAt }) {
      const s = w.requireRecording();
      const { time, warning } = stampTime(w, pressedAt);
      const bib = w.queue.shift();
      if (bib === undefined) return stamped(stampBibless(w, s, time), warning);
      const warnings = warningsFor(w, s, [bib]);
      const p = w.commitPassing(s, { bib, chip: null, time, source: "manual", rawReadId: null });
      w.undo.push({ kind: "passings", ids: [p.id], requeue: bib });
      return stamped(entry(w, [p], warnings), warning);
    },

    async manual_undo() {
      w.requireRecording();
      const a = w.undo.pop();
      if (!a) throw err("invalid", "Nothing to undo");
      const changed: MockPassing[] = [];
      if (a.kind === "passings") {
        for (const id of a.ids) {
          const p = w.passings.get(id);
          if (p && !p.voided) {
            applyChange(w, p, { kind: "void" }, "undo");
            changed.push(p);
          }
        }
        if (a.requeue !== null) w.queue.unshift(a.requeue);
      } else if (a.kind === "assign") {
        for (const id of a.ids) {
          const p = w.passings.get(id);
          if (!p) continue;
          if (p.sync_state === "pending") setBib(w, p, null, null, false);
          else applyChange(w, p, { kind: "set_bib", bib: null }, "undo");
          changed.push(p);
        }
      } else {
        for (let i = a.bibs.length - 1; i >= 0; i--) {
          const at = w.queue.lastIndexOf(a.bibs[i]);
          if (at >= 0) w.queue.splice(at, 1);
        }
      }
      return entry(w, changed, []);
    },

    async passing_correct({ num, change, reason }) {
      const s = w.currentSession();
      if (!s) throw err("no_open_session", "No session: nothing to correct");
      const p = (w.bySession.get(s.id) ?? [])[num - 1];
      if (!p || p.num_passing !== num) throw err("invalid", `No passing #${num} in this session`);
      if (p.corrects_id !== null) throw err("invalid", `#${num} carries a correction; correct the original instead`);
      if (p.sync_state === "moved") throw err("invalid", `#${num} was moved to another session`);
      if (change.kind === "set_bib" && change.bib !== null && !BIB_RE.test(change.bib.trim()))
        throw err("invalid", `"${change.bib}" is not a bib (letters, digits and - only, at most 12)`);
      if (change.kind === "set_time" && Number.isNaN(Date.parse(change.time)))
        throw err("invalid", `"${change.time}" is not a time (expected UTC, e.g. 2026-05-10T09:31:02.070Z)`);
      if (change.kind === "void" && p.voided) throw err("invalid", `#${num} is already void`);
      if (change.kind === "restore" && !p.voided) throw err("invalid", `#${num} is not void`);
      const res = applyChange(w, p, change, reason?.trim() || null);
      return clone(res);
    },

    async passing_audit({ passingId }) {
      return clone(w.corrections.filter((c) => c.passing_id === passingId));
    },
  };
}

/** A recording session for seed(): the current one, else one on a bench device. */
function ensureRecordingSession(w: MockWorld): Session {
  const cur = w.currentSession();
  if (cur && w.isRecording(cur)) return cur;
  let dev = w.currentDevice();
  if (!dev) {
    dev = {
      deviceid: "dv_bench0001",
      serial_number: "BENCH-0001",
      model: "Timing Console",
      device_type: "custom",
      alias: "Bench",
      firmware: null,
      api_base_url: w.settings.api_url,
      bound_at: isoUtc(w.now()),
    };
    w.bound.push(dev);
    w.currentDeviceId = dev.deviceid;
  }
  const s = w.createSession(dev.deviceid, "Benchmark");
  w.emitSession();
  return s;
}

/** Test hooks of the feed domain. */
export function feedControls(w: MockWorld) {
  return {
    /** Preload n passings into the current session (creating device and session if needed). */
    seed(n: number, syncState: "sent" | "pending" = "sent"): number {
      const s = ensureRecordingSession(w);
      const start = w.now() - n * 50;
      for (let i = 0; i < n; i++) {
        const ru = w.finishOrder[w.finishCursor++ % w.finishOrder.length];
        const p = w.commitPassing(s, {
          bib: ru.bib,
          chip: ru.chip,
          time: start + i * 50,
          source: "reader",
          rawReadId: w.nextRawId++,
        });
        if (syncState === "sent") w.markSent(p, false);
      }
      return n;
    },

    /** Deliver pending feed changes now. */
    flushFeed(): void {
      flushFeed(w);
    },
  };
}
