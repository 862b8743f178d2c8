// The mock host's in-memory world: a fake RUFUS account, the devices bound here, sessions,
// passings and their outbox, the readers, the updater, and the listeners of the live feed and
// the status events. The per-domain handler files (app.ts, devices.ts, …) read and change it;
// what several domains need (the current session, committing a passing, the status views and
// emitting them) lives here. It follows the Rust side's contract (bindings.gen.ts); it is not
// a second backend.

import type {
  CaptureStatus,
  ClockStatus,
  CloudDevice,
  CloudSession,
  Correction,
  Device,
  ErrorCode,
  FeedBatch,
  FrameView,
  IpcError,
  Passing,
  ReaderView,
  Session,
  Settings,
  StartView,
  SyncStatus,
  UpdateStatus,
} from "../bindings.gen";
import type { EventName, EventPayloads } from "../host";
import { isoUtc, makeField, type Runner, rng, shuffled } from "./data";

export const PRODUCTION_API = "https://api.runonrufus.com/v0";
export const SIMULATOR_API = "http://127.0.0.1:8787/v0";

export type MockScenario = "first-run" | "demo";

export interface MockOptions {
  /** "first-run": no key, nothing bound. "demo": key, device, an active session, reads flowing. */
  scenario?: MockScenario;
  /** Run the timers (reader, sync, feed flush, events). Tests pass false and call tick(). */
  timers?: boolean;
  /** Simulated IPC latency, ms (0: resolve on the next microtask). */
  latencyMs?: number;
  /** Reads per second of the simulated reader. */
  rate?: number;
  /** Passings per second the simulated cloud accepts. */
  syncRate?: number;
  /** Where api_key_set says the key went. */
  keyStorage?: "keychain" | "file";
  seed?: number;
  /** Clock source (ms since epoch); tests pass a fake. */
  now?: () => number;
  /**
   * A version the (fake) update server offers, as a build with an update endpoint would find it.
   * Without it updates are off, as in a build without RUFUS_UPDATE_ENDPOINT.
   */
  update?: string;
}

/** The console's state the update rule decides on (src-tauri `updates::UpdateFacts`). */
export interface UpdateFacts {
  sessionOpen: boolean;
  pending: number;
  uncommittedReads: number;
}

/** Why an update may not be installed now, or null when it may (src-tauri `updates::blocked_reason`). */
export function updateBlockedReason(f: UpdateFacts): string | null {
  const why: string[] = [];
  if (f.sessionOpen) why.push("a session is open");
  if (f.pending > 0) why.push(`${f.pending} ${f.pending === 1 ? "passing is" : "passings are"} waiting to be sent`);
  if (f.uncommittedReads > 0)
    why.push(`${f.uncommittedReads} ${f.uncommittedReads === 1 ? "read is" : "reads are"} waiting to be recorded`);
  const last = why.pop();
  if (last === undefined) return null;
  return why.length === 0 ? last : `${why.join(", ")} and ${last}`;
}

export interface MockPassing extends Passing {
  /** Effective values after corrections (what the feed shows). */
  eff_bib: string | null;
  eff_time: string;
  voided: boolean;
  corrected: boolean;
  /** Whether the cloud holds it (for reconcile). */
  in_cloud: boolean;
}

export interface MockReader {
  view: ReaderView;
  sim: boolean;
  rate: number;
  /** Read times (ms) in the last few seconds, for reads/s. */
  recent: number[];
  /** Reads in the current 5 s window for the sparkline. */
  windowReads: number;
  windowStart: number;
  frames: FrameView[];
  /** Chips read lately: chip → last read time (dedup window). */
  lastSeen: Map<string, number>;
  recentChips: string[];
  burstUntil: number;
  nextBurstCheck: number;
  carry: number;
  /** Reader clock minus host clock, ms. */
  offset: number | null;
}

export type UndoAction =
  | { kind: "passings"; ids: number[]; requeue: string | null }
  | { kind: "assign"; ids: number[] }
  | { kind: "queue"; bibs: string[] };

export const BIB_RE = /^[A-Za-z0-9-]{1,12}$/;

export function err(code: ErrorCode, message: string): IpcError {
  return { code, message };
}

export function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

export class MockWorld {
  readonly now: () => number;
  readonly r: () => number;
  readonly keyKind: "keychain" | "file";
  /** The running intervals (empty with timers off: readers then connect at once). */
  timers: ReturnType<typeof setInterval>[] = [];
  /**
   * Called when the feed has something to deliver. With timers on, it delivers like the app's
   * live feed: the first change at once, then at most one batch per FEED_GAP_MS; tests run
   * with timers off and deliver with tick().
   */
  feedPending: () => void = () => {};
  /** Drops a delivery that is due (dispose). */
  stopFeed: () => void = () => {};

  // --- app & account -------------------------------------------------------------------
  settings: Settings = {
    api_url: PRODUCTION_API,
    dedup_window_s: 5,
    station: "Finish",
    operator: "",
    time_display: "local",
    theme: "day",
    scale: 1,
    sound: { muted: false, volume: 0.6 },
  };
  apiKey: string | null = null;
  account: CloudDevice[] = [];
  accountSessions = new Map<string, CloudSession[]>();
  bound: Device[] = [];
  currentDeviceId: string | null = null;

  // --- sessions, passings, manual entry --------------------------------------------------
  sessions: Session[] = [];
  passings = new Map<number, MockPassing>();
  bySession = new Map<number, MockPassing[]>();
  corrections: Correction[] = [];
  outbox = new Set<MockPassing>();
  readers = new Map<string, MockReader>();
  runners: Runner[];
  participants = new Map<string, Runner>();
  chipMap = new Map<string, string>();
  /** Every session's start log, oldest first (as timing-core's `starts` table). */
  starts: (StartView & { session_id: number })[] = [];
  finishOrder: Runner[];
  finishCursor = 0;
  queue: string[] = [];
  undo: UndoAction[] = [];
  nextPassingId = 1;
  nextSessionId = 1;
  nextCorrectionId = 1;
  nextRawId = 1;

  // --- sync engine -----------------------------------------------------------------------
  online = true;
  stopped: string | null = null;
  /** The account refuses the key (401/403) until restoreAccess(): a retry pauses again. */
  authBroken = false;
  /** Why commits fail (failCommits), and the reads waiting meanwhile. */
  commitError: string | null = null;
  captureQueued = 0;
  lastCaptureJson = "";
  /** How often "Retry now" was asked for (tests). */
  retries = 0;
  lastSuccess: string | null = null;
  lastError: string | null = null;
  lastErrorCode: string | null = null;
  syncRate: number;
  sentLog: { at: number; n: number }[] = [];
  syncCarry = 0;
  sentTotal = 0;
  lastJumpMs: number | null = null;

  // --- feed + events ---------------------------------------------------------------------
  feedSubs = new Set<(b: FeedBatch) => void>();
  changed = new Map<number, MockPassing>();
  rawSince = 0;
  /** A start changed since the last batch: the screen re-reads the feed and the race. */
  reread = false;
  dupSince = 0;
  listeners: { [K in EventName]: Set<(p: EventPayloads[K]) => void> } = {
    sync: new Set(),
    readers: new Set(),
    session: new Set(),
    clock: new Set(),
    capture: new Set(),
    update: new Set(),
  };
  lastSyncJson = "";
  lastTick: number;

  // --- updater (off unless offerUpdate() or the `update` option) ---------------------------
  updates = {
    enabled: false,
    available: null as string | null,
    notes: null as string | null,
    checkedAt: null as string | null,
    lastError: null as string | null,
    installed: null as string | null,
  };
  lastUpdateJson = "";

  constructor(opts: MockOptions = {}) {
    this.now = opts.now ?? (() => Date.now());
    this.r = rng(opts.seed ?? 42);
    this.keyKind = opts.keyStorage ?? "keychain";
    this.syncRate = opts.syncRate ?? 400;
    this.lastTick = this.now();
    this.runners = makeField(1500);
    for (const ru of this.runners) {
      this.participants.set(ru.bib, ru);
      this.chipMap.set(ru.chip, ru.bib);
    }
    this.finishOrder = shuffled(this.runners, this.r);
    this.account = [
      {
        deviceid: "dv_7f3a21c0",
        serial_number: "RUFUS-CB-0042",
        model: "CloudBox 2",
        alias: "Finish box",
        sessions: 12,
        passings: 8421,
        bound_here: false,
      },
      {
        deviceid: "dv_19c04455",
        serial_number: "TC-LAPTOP-01",
        model: "Timing Console",
        alias: "Laptop A",
        sessions: 3,
        passings: 1204,
        bound_here: false,
      },
    ];
    this.accountSessions.set("dv_19c04455", [
      {
        token_session: "tk_a81f02",
        alias: "Spring 10K 2026",
        active: false,
        passings: 1204,
        creation_date: "2026-04-12 08:55:02",
      },
    ]);
  }

  // --- devices and sessions ----------------------------------------------------------------

  currentDevice(): Device | null {
    return this.bound.find((d) => d.deviceid === this.currentDeviceId) ?? null;
  }

  currentSession(): Session | null {
    const id = this.currentDeviceId;
    if (!id) return null;
    for (let i = this.sessions.length - 1; i >= 0; i--) if (this.sessions[i].deviceid === id) return this.sessions[i];
    return null;
  }

  isRecording(s: Session): boolean {
    return s.state === "opening" || s.state === "active";
  }

  sessionById(id: number): Session {
    const s = this.sessions.find((x) => x.id === id);
    if (!s) throw err("not_found", `No session ${id}`);
    return s;
  }

  requireKey(): void {
    if (!this.apiKey) throw err("no_api_key", "No RUFUS API key: enter one in Settings");
  }

  requireRecording(): Session {
    const s = this.currentSession();
    if (!s || !this.isRecording(s)) throw err("no_open_session", "No session is open: open one to record passings");
    return s;
  }

  createSession(deviceid: string, alias: string | null): Session {
    const s: Session = {
      id: this.nextSessionId++,
      deviceid,
      token_session: null,
      alias,
      state: "opening",
      opened_at: isoUtc(this.now()),
      closed_at: null,
      next_num_passing: 1,
      note: this.apiKey ? "Creating the session in RUFUS" : "Recording locally: no API key, not yet in RUFUS",
    };
    this.sessions.push(s);
    this.bySession.set(s.id, []);
    this.queue = [];
    this.undo = [];
    return s;
  }

  // --- passings and the outbox -------------------------------------------------------------

  commitPassing(
    s: Session,
    a: { bib: string | null; chip: string | null; time: number; source: Passing["source"]; rawReadId: number | null },
  ): MockPassing {
    const ts = isoUtc(a.time);
    const p: MockPassing = {
      id: this.nextPassingId++,
      session_id: s.id,
      num_passing: s.next_num_passing++,
      bib: a.bib,
      chip: a.chip,
      timestamp: ts,
      source: a.source,
      status: null,
      raw_read_id: a.rawReadId,
      corrects_id: null,
      moved_from_id: null,
      sync_state: "pending",
      sync_error: null,
      sync_attempts: 0,
      sent_at: null,
      created_at: isoUtc(this.now()),
      eff_bib: a.bib,
      eff_time: ts,
      voided: false,
      corrected: false,
      in_cloud: false,
    };
    this.passings.set(p.id, p);
    let list = this.bySession.get(s.id);
    if (!list) {
      list = [];
      this.bySession.set(s.id, list);
    }
    list.push(p);
    this.outbox.add(p);
    this.touch(p);
    return p;
  }

  /** Marks a passing changed for the next feed batch. */
  touch(p: MockPassing): void {
    if (p.corrects_id !== null) return; // carriers are not feed rows
    this.changed.delete(p.id);
    this.changed.set(p.id, p);
    this.feedPending();
  }

  markSent(p: MockPassing, notify: boolean): void {
    p.sync_state = "sent";
    p.sync_attempts++;
    p.sync_error = null;
    p.sent_at = isoUtc(this.now());
    p.in_cloud = true;
    this.outbox.delete(p);
    this.sentTotal++;
    if (notify) this.touch(p);
  }

  /** A stamped time waiting for its bib: not sent until it has one. */
  isHeld(p: MockPassing): boolean {
    return p.bib === null && p.chip === null && !p.voided;
  }

  // --- status views --------------------------------------------------------------------------

  syncStatus(): SyncStatus {
    let pending = 0;
    let parked = 0;
    for (const p of this.outbox) if (!this.isHeld(p)) pending++;
    for (const list of this.bySession.values()) for (const p of list) if (p.sync_state === "parked") parked++;
    const t = this.now();
    this.sentLog = this.sentLog.filter((e) => t - e.at <= 10_000);
    const sent10 = this.sentLog.reduce((a, e) => a + e.n, 0);
    return {
      pending,
      sent: this.sentTotal,
      parked,
      rate: Math.round((sent10 / 10) * 10) / 10,
      last_success: this.lastSuccess,
      last_error: this.lastError,
      last_error_code: this.lastErrorCode,
      stopped: this.stopped,
      closed_remotely: this.sessions
        .filter((s) => s.state === "closed_remotely" && s.note?.startsWith("Closed"))
        .map((s) => s.id),
      offline: this.apiKey === null,
    };
  }

  captureStatus(): CaptureStatus {
    return { last_error: this.commitError, queued: this.captureQueued };
  }

  clockStatus(): ClockStatus {
    return { host_utc: isoUtc(this.now()), last_jump_ms: this.lastJumpMs };
  }

  readerViews(): ReaderView[] {
    return [...this.readers.values()].map((rd) => clone(rd.view));
  }

  updateFacts(): UpdateFacts {
    const s = this.currentSession();
    return {
      sessionOpen: s !== null && ["opening", "active", "closing", "closed_remotely"].includes(s.state),
      pending: this.syncStatus().pending,
      uncommittedReads: this.captureQueued,
    };
  }

  updateView(): UpdateStatus {
    const u = this.updates;
    if (!u.enabled)
      return {
        enabled: false,
        current: "0.1.0-mock",
        available: null,
        notes: null,
        can_install: false,
        blocked_reason: null,
        checked_at: null,
        last_error: null,
        installing: false,
        installed: null,
      };
    const blocked = u.available === null ? null : updateBlockedReason(this.updateFacts());
    return {
      enabled: true,
      current: "0.1.0-mock",
      available: u.available,
      notes: u.available === null ? null : u.notes,
      can_install: u.available !== null && blocked === null,
      blocked_reason: blocked,
      checked_at: u.checkedAt,
      last_error: u.lastError,
      installing: false,
      installed: u.installed,
    };
  }

  // --- events --------------------------------------------------------------------------------

  emit<K extends EventName>(name: K, payload: EventPayloads[K]): void {
    for (const cb of this.listeners[name]) (cb as (p: EventPayloads[K]) => void)(payload);
  }

  /** Like the backend's status loop: only a build that checks for updates says anything. */
  emitUpdate(force: boolean): void {
    if (!this.updates.enabled) return;
    const view = this.updateView();
    const json = JSON.stringify(view);
    if (force || json !== this.lastUpdateJson) {
      this.lastUpdateJson = json;
      this.emit("update", view);
    }
  }

  emitSession(): void {
    this.emit("session", clone(this.currentSession()));
  }

  emitStatus(force: boolean): void {
    const sync = this.syncStatus();
    const json = JSON.stringify(sync);
    if (force || json !== this.lastSyncJson) {
      this.lastSyncJson = json;
      this.emit("sync", sync);
    }
    this.emit("readers", this.readerViews());
    const capture = this.captureStatus();
    const cj = JSON.stringify(capture);
    if (force || cj !== this.lastCaptureJson) {
      this.lastCaptureJson = cj;
      this.emit("capture", capture);
    }
    this.emitUpdate(false);
  }
}
