// An in-memory Host for browser tests, demos and benchmarks: fake RUFUS account devices,
// bind with serial lookup, sessions with state changes, a simulated reader producing a
// realistic finish (bunches, duplicate reads, unknown chips), the three manual-entry modes,
// undo, corrections (in place while pending, carrier passings once sent), a sync engine that
// drains pending → sent with a visible backlog, and errors with the real app's codes.
// It follows the same contract as the Rust side (bindings.gen.ts); it is not a second backend.

import type {
  AppState,
  BindInput,
  CaptureStatus,
  ChangeInput,
  ClockStatus,
  CloudDevice,
  CloudSession,
  Corrected,
  Correction,
  Device,
  Entry,
  FeedBatch,
  FeedEntry,
  FrameView,
  ImportReport,
  IpcError,
  KeyStorage,
  ManualResult,
  OutboxCounts,
  Passing,
  PortView,
  ProtocolView,
  ReaderSettingView,
  ReaderView,
  ReconcileReport,
  Session,
  SessionDetails,
  Settings,
  SyncStatus,
  UpdateStatus,
  Warning,
  ZoneList,
} from "./bindings.gen";
import { READER_PROTOCOLS } from "./bindings.gen";
import type { EventName, EventPayloads, ExportWhat, Host, Unsubscribe } from "./host";
import { chipForBib, isoUtc, makeField, type Runner, randomHex, rng, shuffled } from "./mock-data";

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

interface MockPassing extends Passing {
  /** Effective values after corrections (what the feed shows). */
  eff_bib: string | null;
  eff_time: string;
  voided: boolean;
  corrected: boolean;
  /** Whether the cloud holds it (for reconcile). */
  in_cloud: boolean;
}

interface MockReader {
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

type UndoAction =
  | { kind: "passings"; ids: number[]; requeue: string | null }
  | { kind: "assign"; ids: number[] }
  | { kind: "queue"; bibs: string[] };

const BIB_RE = /^[A-Za-z0-9-]{1,12}$/;
const CLOUD_BIB_RE = /^[A-Za-z0-9]{1,10}$/;
const FEED_BATCH_CAP = 5000;
/** More bibs than this in one entry ask for a confirmation (timing_core::manual::CONFIRM_ABOVE). */
export const CONFIRM_ABOVE = 50;
/** How old / how far ahead a key press time may be (timing_core::engine::KEY_PRESS_*). */
const KEY_PRESS_PAST_MS = 120_000;
const KEY_PRESS_FUTURE_MS = 2_000;

/** Bytes of a text file as the backend decodes them: BOM → UTF-8/UTF-16, else UTF-8, else Windows-1252. */
export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder("utf-8").decode(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}

function isLoopback(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === "127.0.0.1" || h === "localhost" || h === "[::1]" || h === "::1";
  } catch {
    return false;
  }
}

/** The mock computer's zone, and the zones its field offers. */
export const MOCK_COMPUTER_ZONE = "Europe/Madrid";
const MOCK_ZONES = [
  "UTC",
  "Europe/London",
  "Europe/Lisbon",
  "Europe/Madrid",
  "Europe/Paris",
  "Europe/Berlin",
  "Europe/Rome",
  "Europe/Athens",
  "Atlantic/Canary",
  "America/New_York",
  "America/Chicago",
  "America/Denver",
  "America/Los_Angeles",
  "America/Mexico_City",
  "America/Bogota",
  "America/Argentina/Buenos_Aires",
  "America/Sao_Paulo",
  "Africa/Johannesburg",
  "Asia/Kolkata",
  "Asia/Tokyo",
  "Australia/Sydney",
  "Pacific/Auckland",
];
/** Protocols whose readers send UTC (no zone applies), from the registry. */
const SENDS_UTC = new Set(READER_PROTOCOLS.filter((p) => p.carries_time && !p.local_time).map((p) => p.name));

function err(code: string, message: string): IpcError {
  return { code, message };
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

export class MockHost implements Host {
  readonly kind = "mock" as const;

  private readonly now: () => number;
  private readonly r: () => number;
  private readonly latencyMs: number;
  private readonly keyKind: "keychain" | "file";
  private timers: ReturnType<typeof setInterval>[] = [];

  // --- state -------------------------------------------------------------------------
  private settings: Settings = {
    api_url: PRODUCTION_API,
    dedup_window_s: 5,
    station: "Finish",
    operator: "",
    time_display: "local",
    theme: "day",
    scale: 1,
  };
  private apiKey: string | null = null;
  private account: CloudDevice[] = [];
  private accountSessions = new Map<string, CloudSession[]>();
  private bound: Device[] = [];
  private currentDeviceId: string | null = null;
  private sessions: Session[] = [];
  private passings = new Map<number, MockPassing>();
  private bySession = new Map<number, MockPassing[]>();
  private corrections: Correction[] = [];
  private outbox = new Set<MockPassing>();
  private readers = new Map<string, MockReader>();
  private runners: Runner[];
  private participants = new Map<string, Runner>();
  private chipMap = new Map<string, string>();
  private finishOrder: Runner[];
  private finishCursor = 0;
  private queue: string[] = [];
  private undo: UndoAction[] = [];
  private nextPassingId = 1;
  private nextSessionId = 1;
  private nextCorrectionId = 1;
  private nextRawId = 1;

  // sync engine
  private online = true;
  private stopped: string | null = null;
  /** The account refuses the key (401/403) until restoreAccess(): a retry pauses again. */
  private authBroken = false;
  /** Why commits fail (failCommits), and the reads waiting meanwhile. */
  private commitError: string | null = null;
  private captureQueued = 0;
  private lastCaptureJson = "";
  /** How often "Retry now" was asked for (tests). */
  retries = 0;
  private lastSuccess: string | null = null;
  private lastError: string | null = null;
  private lastErrorCode: string | null = null;
  private syncRate: number;
  private sentLog: { at: number; n: number }[] = [];
  private syncCarry = 0;
  private sentTotal = 0;
  private lastJumpMs: number | null = null;

  // feed + events
  private feedSubs = new Set<(b: FeedBatch) => void>();
  private changed = new Map<number, MockPassing>();
  private rawSince = 0;
  private dupSince = 0;
  private listeners: { [K in EventName]: Set<(p: EventPayloads[K]) => void> } = {
    sync: new Set(),
    readers: new Set(),
    session: new Set(),
    clock: new Set(),
    capture: new Set(),
    update: new Set(),
  };
  private lastSyncJson = "";
  private lastTick: number;

  // updater (off unless offerUpdate() or the `update` option)
  private updates = {
    enabled: false,
    available: null as string | null,
    notes: null as string | null,
    checkedAt: null as string | null,
    lastError: null as string | null,
    installed: null as string | null,
  };
  private lastUpdateJson = "";

  constructor(opts: MockOptions = {}) {
    this.now = opts.now ?? (() => Date.now());
    this.r = rng(opts.seed ?? 42);
    this.latencyMs = opts.latencyMs ?? 0;
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
    this.addReader("sim-finish", `sim:runners=1500,rate=${opts.rate ?? 5}`, true);

    if (opts.update) this.offerUpdate(opts.update);
    if ((opts.scenario ?? "first-run") === "demo") this.setupDemo();
    if (opts.timers ?? true) this.startTimers();
  }

  // --- control API (window.__mockHost) ---------------------------------------------------

  /** Reads per second of every simulated reader. */
  setRate(perSecond: number): void {
    for (const rd of this.readers.values()) if (rd.sim) rd.rate = Math.max(0, perSecond);
  }

  /** Passings per second the simulated cloud accepts. */
  setSyncRate(perSecond: number): void {
    this.syncRate = Math.max(0, perSecond);
  }

  /** Simulate the venue's 4G dropping (false) and coming back (true). */
  setOnline(online: boolean): void {
    this.online = online;
    if (online) {
      this.lastError = null;
      this.lastErrorCode = null;
    }
  }

  /** Stop syncing as a 401/403 would. */
  failSync(code: "unauthorized" | "forbidden" = "unauthorized"): void {
    this.authBroken = true;
    this.stopped =
      code === "unauthorized"
        ? "RUFUS refused the API key (401). Enter a valid key in Settings."
        : "The API key lacks the passings permission (403). Ask the account owner to add it.";
    this.lastError = this.stopped;
    this.lastErrorCode = code;
  }

  /** The account owner fixed the key's permissions: the next retry (or the minute's retry) resumes. */
  restoreAccess(): void {
    this.authBroken = false;
  }

  /** Make capture's commits fail (disk full, database locked) until called with null; reads wait. */
  failCommits(reason: string | null = "database or disk is full"): void {
    this.commitError = reason;
    if (reason === null) {
      const rd = [...this.readers.values()].find((r) => r.sim);
      const n = this.captureQueued;
      this.captureQueued = 0;
      if (rd) for (let i = 0; i < n; i++) this.simRead(rd, this.now());
    }
    this.emitStatus(true);
  }

  /**
   * Another console has the device with this serial in use: an active session in RUFUS this
   * console does not know (binding it asks to take over).
   */
  openElsewhere(serial = "TC-LAPTOP-01", passings = 57): string {
    const dev = this.account.find((d) => d.serial_number === serial);
    if (!dev) throw new Error(`no account device ${serial}`);
    const token = `tk_${randomHex(this.r, 6)}`;
    const list = this.accountSessions.get(dev.deviceid) ?? [];
    list.push({
      token_session: token,
      alias: "Other laptop",
      active: true,
      passings,
      creation_date: isoUtc(this.now() - 600_000),
    });
    this.accountSessions.set(dev.deviceid, list);
    return token;
  }

  /** Preload n passings into the current session (creating device and session if needed). */
  seed(n: number, syncState: "sent" | "pending" = "sent"): number {
    const s = this.ensureRecordingSession();
    const start = this.now() - n * 50;
    for (let i = 0; i < n; i++) {
      const ru = this.finishOrder[this.finishCursor++ % this.finishOrder.length];
      const p = this.commitPassing(s, {
        bib: ru.bib,
        chip: ru.chip,
        time: start + i * 50,
        source: "reader",
        rawReadId: this.nextRawId++,
      });
      if (syncState === "sent") this.markSent(p, false);
    }
    return n;
  }

  /** The cloud closes the open session from elsewhere (another device opened one). */
  closeRemotely(): void {
    const s = this.currentSession();
    if (!s || !this.isRecording(s)) return;
    const pending = (this.bySession.get(s.id) ?? []).filter((p) => p.sync_state === "pending").length;
    s.state = "closed_remotely";
    s.closed_at = isoUtc(this.now());
    s.note = `Closed in RUFUS from elsewhere while ${pending} passings were waiting to be sent.`;
    this.emitSession();
  }

  /** The cloud silently lost n passings it had acknowledged (to exercise reconcile). */
  loseInCloud(n: number): number[] {
    const s = this.currentSession();
    if (!s) return [];
    const held = (this.bySession.get(s.id) ?? []).filter((p) => p.in_cloud);
    const lost: number[] = [];
    for (let i = 0; i < n && held.length > 0; i++) {
      const p = held.splice(Math.floor(this.r() * held.length), 1)[0];
      p.in_cloud = false;
      lost.push(p.num_passing);
    }
    return lost.sort((a, b) => a - b);
  }

  /** The OS clock jumped by ms. */
  clockJump(ms: number): void {
    this.lastJumpMs = ms;
    this.emit("clock", this.clockStatus());
  }

  /**
   * The update server offers this version (turns updates on, as a build with an update
   * endpoint whose background check found it).
   */
  offerUpdate(version = "0.2.0", notes: string | null = "Faster sync after an outage.\nClearer reader warnings."): void {
    this.updates = {
      ...this.updates,
      enabled: true,
      available: version,
      notes,
      checkedAt: isoUtc(this.now()),
      lastError: null,
    };
    this.emitUpdate(true);
  }

  /** A background update check failed (the venue is offline); turns updates on. */
  failUpdateCheck(reason = "error sending request for url (https://updates.example/latest.json)"): void {
    this.updates = { ...this.updates, enabled: true, checkedAt: isoUtc(this.now()), lastError: reason };
    this.emitUpdate(true);
  }

  /** Advance the simulation by hand (tests run with timers off). */
  tick(ms = 50): void {
    this.step(ms);
    this.flushFeed();
    this.emitStatus(true);
  }

  /** Deliver pending feed changes now. */
  flushFeed(): void {
    if (this.changed.size === 0 && this.rawSince === 0) return;
    const entries: FeedEntry[] = [];
    for (const [id, p] of this.changed) {
      entries.push(this.feedEntry(p));
      this.changed.delete(id);
      if (entries.length >= FEED_BATCH_CAP) break;
    }
    const batch: FeedBatch = { entries, raw_reads: this.rawSince, duplicates: this.dupSince };
    this.rawSince = 0;
    this.dupSince = 0;
    for (const cb of this.feedSubs) cb(batch);
  }

  dispose(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  // --- Host: app & settings -------------------------------------------------------------

  async appState(): Promise<AppState> {
    await this.latency();
    return clone({
      device: this.currentDevice(),
      session: this.currentSession(),
      sync: this.syncStatus(),
      readers: this.readerViews(),
      settings: this.settings,
      key: this.keyStorage(),
      queued: this.queue,
      participants_loaded: this.participants.size > 0,
      capture: this.captureStatus(),
      warnings: [],
      version: "0.1.0-mock",
    });
  }

  async settingsSet(s: Settings): Promise<Settings> {
    await this.latency();
    // As the backend: every message names the field; nothing is kept on a refusal.
    if (!(s.scale >= 0.75 && s.scale <= 2)) throw err("invalid", "scale: the UI scale must be 0.75–2");
    if (!(s.dedup_window_s >= 0 && s.dedup_window_s <= 3600))
      throw err("invalid", "dedup_window_s: the de-duplication window must be 0–3600 s");
    const url = s.api_url.trim().replace(/\/+$/, "");
    if (!/^https?:\/\/[^\s/]+/.test(url)) throw err("invalid", "api_url: the API URL must start with http:// or https://");
    if (url.startsWith("http://") && !isLoopback(url))
      throw err("invalid", "api_url: https is required for anything but this computer (the key would travel in clear)");
    for (const [field, v] of [
      ["operator", s.operator],
      ["station", s.station],
    ] as const) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
      if (v.trim().length > 64 || /[\u0000-\u001f\u007f]/.test(v))
        throw err("invalid", `${field}: at most 64 characters, no control characters`);
    }
    this.settings = clone({ ...s, api_url: url });
    return clone(this.settings);
  }

  async apiKeySet(key: string): Promise<KeyStorage> {
    await this.latency();
    const k = key.trim();
    if (!k) throw err("invalid", "api_key: the API key is empty");
    if (k.length < 8 || /\s/.test(k) || /[^\x21-\x7e]/.test(k))
      throw err("invalid", "api_key: an API key is printable ASCII without spaces (check what was pasted)");
    this.apiKey = k;
    this.authBroken = false;
    this.stopped = null;
    this.lastError = null;
    this.lastErrorCode = null;
    this.emitStatus(true);
    return this.keyStorage();
  }

  async apiKeyClear(): Promise<KeyStorage> {
    await this.latency();
    this.apiKey = null;
    this.emitStatus(true);
    return this.keyStorage();
  }

  // --- Host: devices --------------------------------------------------------------------

  async deviceBind(input: BindInput): Promise<Device> {
    await this.latency();
    this.requireKey();
    const serial = input.serial_number.trim();
    if (!serial) throw err("invalid", "The serial number is required");
    if (!input.model.trim()) throw err("invalid", "The model is required");
    const before = this.currentDevice();
    const fromLocal = before?.deviceid.startsWith("local-") ?? false;
    const rec = this.currentSession();
    if (rec && this.isRecording(rec) && !fromLocal) {
      throw err("invalid", "Close the open session before binding another device");
    }
    let cloud = this.account.find((d) => d.serial_number === serial);
    // As the backend: a device whose session is active in RUFUS and unknown here is in use by
    // another console; binding asks first and, confirmed, continues that session here.
    const active = cloud
      ? (this.accountSessions.get(cloud.deviceid) ?? []).find(
          (cs) => cs.active && !this.sessions.some((ls) => ls.token_session === cs.token_session),
        )
      : undefined;
    if (active && !input.take_over) {
      const name = active.alias ? ` (${active.alias})` : "";
      throw err(
        "confirmation_required",
        `in use by another console: session ${active.token_session}${name}, ${active.passings ?? "?"} passings, last at ${active.creation_date ?? "?"} — take over to continue that session here (numbering goes on after the cloud's last passing)`,
      );
    }
    if (!cloud) {
      cloud = {
        deviceid: `dv_${randomHex(this.r, 4)}`,
        serial_number: serial,
        model: input.model.trim(),
        alias: input.alias?.trim() || null,
        sessions: 0,
        passings: 0,
        bound_here: true,
      };
      this.account.push(cloud);
    }
    let dev = this.bound.find((d) => d.deviceid === cloud.deviceid);
    if (!dev) {
      dev = {
        deviceid: cloud.deviceid,
        serial_number: serial,
        model: cloud.model ?? input.model.trim(),
        device_type: input.device_type.trim() || "custom",
        alias: input.alias?.trim() || cloud.alias,
        firmware: input.firmware?.trim() || null,
        api_base_url: this.settings.api_url,
        bound_at: isoUtc(this.now()),
      };
      this.bound.push(dev);
    }
    if (before && fromLocal) {
      // As the backend does: what was recorded before the first bind moves to the bound device.
      for (const sess of this.sessions) {
        if (sess.deviceid === before.deviceid && sess.token_session === null) sess.deviceid = dev.deviceid;
      }
      this.bound = this.bound.filter((d) => d.deviceid !== before.deviceid);
    }
    this.currentDeviceId = dev.deviceid;
    this.undo = [];
    if (active) {
      const taken = this.createSession(dev.deviceid, active.alias);
      taken.token_session = active.token_session;
      taken.state = "active";
      taken.note = null;
      taken.next_num_passing = (active.passings ?? 0) + 1;
    }
    this.emitSession();
    return clone(dev);
  }

  /** The stand-in device a console records under before its first bind (as the backend). */
  private localDevice(): Device {
    const dev: Device = {
      deviceid: `local-${this.now()}`,
      serial_number: "LOCAL",
      model: "this console (not bound yet)",
      device_type: null,
      alias: "Not bound",
      firmware: null,
      api_base_url: "",
      bound_at: isoUtc(this.now()),
    };
    this.bound.push(dev);
    this.currentDeviceId = dev.deviceid;
    return dev;
  }

  async deviceList(): Promise<Device[]> {
    await this.latency();
    return clone(this.bound);
  }

  async deviceCloudList(): Promise<CloudDevice[]> {
    await this.latency();
    this.requireKey();
    return clone(this.account.map((d) => ({ ...d, bound_here: this.bound.some((b) => b.deviceid === d.deviceid) })));
  }

  async deviceSelect(deviceid: string): Promise<Device> {
    await this.latency();
    const dev = this.bound.find((d) => d.deviceid === deviceid);
    if (!dev) throw err("not_found", `Device ${deviceid} is not bound to this console`);
    const rec = this.currentSession();
    if (rec && this.isRecording(rec) && rec.deviceid !== deviceid)
      throw err("invalid", "Close the open session before switching devices");
    this.currentDeviceId = deviceid;
    this.undo = [];
    this.emitSession();
    return clone(dev);
  }

  async deviceUnbind(deviceid: string, confirmed: boolean): Promise<void> {
    await this.latency();
    const dev = this.bound.find((d) => d.deviceid === deviceid);
    if (!dev) throw err("not_found", `Device ${deviceid} is not bound to this console`);
    const rec = this.sessions.find((s) => s.deviceid === deviceid && this.isRecording(s));
    if (rec) throw err("invalid", "This device has an open session: close it first");
    const cloud = this.account.find((d) => d.deviceid === deviceid);
    if (!confirmed) {
      throw err(
        "confirmation_required",
        `Unbinding deletes device ${dev.alias ?? dev.serial_number} in RUFUS together with its ${cloud?.sessions ?? 0} sessions and ${cloud?.passings ?? 0} passings. This cannot be undone.`,
      );
    }
    if (this.apiKey) this.account = this.account.filter((d) => d.deviceid !== deviceid);
    this.bound = this.bound.filter((d) => d.deviceid !== deviceid);
    if (this.currentDeviceId === deviceid) this.currentDeviceId = this.bound[0]?.deviceid ?? null;
    this.emitSession();
  }

  // --- Host: sessions -------------------------------------------------------------------

  async sessionOpen(alias: string | null): Promise<Session> {
    await this.latency();
    // First run with no device: record on this console now; binding later adopts the session.
    const dev = this.currentDevice() ?? this.localDevice();
    const cur = this.currentSession();
    if (cur && this.isRecording(cur)) throw err("invalid", `Session "${cur.alias ?? cur.id}" is already open: close it first`);
    const s = this.createSession(dev.deviceid, alias?.trim() || null);
    this.emitSession();
    return clone(s);
  }

  async sessionClose(): Promise<Session> {
    await this.latency();
    const s = this.currentSession();
    if (!s || !this.isRecording(s)) throw err("no_open_session", "No session is open");
    s.state = "closing";
    s.note = this.apiKey
      ? "Sending the last passings, then closing in RUFUS"
      : "Waiting for an API key to send the last passings";
    this.queue = [];
    this.undo = [];
    this.emitSession();
    return clone(s);
  }

  async sessionList(): Promise<Session[]> {
    await this.latency();
    return clone(this.sessions.slice().reverse());
  }

  async sessionCloudList(): Promise<CloudSession[]> {
    await this.latency();
    this.requireKey();
    const dev = this.currentDevice();
    if (!dev) throw err("no_device", "No device is bound");
    const fromHere: CloudSession[] = this.sessions
      .filter((s) => s.deviceid === dev.deviceid && s.token_session)
      .map((s) => ({
        token_session: s.token_session as string,
        alias: s.alias,
        active: s.state === "active" || s.state === "closing",
        passings: (this.bySession.get(s.id) ?? []).filter((p) => p.in_cloud).length,
        creation_date: s.opened_at.replace("T", " ").slice(0, 19),
      }))
      .reverse();
    return clone([...fromHere, ...(this.accountSessions.get(dev.deviceid) ?? [])]);
  }

  async sessionDetails(sessionId: number): Promise<SessionDetails> {
    await this.latency();
    const s = this.sessionById(sessionId);
    return clone({ session: s, outbox: this.outboxCounts(s.id) });
  }

  async sessionReconcile(sessionId: number): Promise<ReconcileReport> {
    await this.latency();
    this.requireKey();
    const s = this.sessionById(sessionId);
    if (!s.token_session) throw err("invalid", "This session has not been created in RUFUS yet");
    const list = (this.bySession.get(s.id) ?? []).filter((p) => p.sync_state !== "moved");
    return {
      session_id: s.id,
      local: list.length,
      cloud: list.filter((p) => p.in_cloud).length,
      missing_in_cloud: list.filter((p) => p.sync_state === "sent" && !p.in_cloud).map((p) => p.num_passing),
      pending: list.filter((p) => p.sync_state === "pending").map((p) => p.num_passing),
      unknown_in_cloud: [],
    };
  }

  async sessionResendMissing(sessionId: number): Promise<number> {
    await this.latency();
    this.requireKey();
    const s = this.sessionById(sessionId);
    let n = 0;
    for (const p of this.bySession.get(s.id) ?? []) {
      if (p.sync_state === "sent" && !p.in_cloud) {
        p.sync_state = "pending";
        p.sent_at = null;
        this.sentTotal--;
        this.outbox.add(p);
        this.touch(p);
        n++;
      }
    }
    return n;
  }

  async sessionRehome(fromSessionId: number): Promise<number> {
    await this.latency();
    const from = this.sessionById(fromSessionId);
    if (from.state !== "closed_remotely")
      throw err("invalid", "Only a session that RUFUS closed from elsewhere can have its passings moved");
    const cur = this.currentSession();
    if (cur && this.isRecording(cur) && cur.id !== from.id) throw err("invalid", "Close the open session first");
    const to = this.createSession(from.deviceid, `${from.alias ?? `Session ${from.id}`} (continued)`);
    let n = 0;
    for (const p of this.bySession.get(from.id) ?? []) {
      if (p.sync_state !== "pending") continue;
      this.outbox.delete(p);
      p.sync_state = "moved";
      this.touch(p);
      const np = this.commitPassing(to, {
        bib: p.eff_bib,
        chip: p.chip,
        time: Date.parse(p.eff_time),
        source: p.source,
        rawReadId: p.raw_read_id,
      });
      np.moved_from_id = p.id;
      this.corrections.push({
        id: this.nextCorrectionId++,
        passing_id: p.id,
        kind: "move",
        old_value: `session ${from.id} #${p.num_passing}`,
        new_value: `session ${to.id} #${np.num_passing}`,
        operator: this.settings.operator || "operator",
        station: this.settings.station,
        reason: "session closed in RUFUS from elsewhere",
        at: isoUtc(this.now()),
        carrier_id: null,
      });
      n++;
    }
    from.note = `${n} pending passings moved to session ${to.id}`;
    this.emitSession();
    return n;
  }

  // --- Host: feed -----------------------------------------------------------------------

  async feedPage(before: number | null, limit: number): Promise<FeedEntry[]> {
    await this.latency();
    const s = this.currentSession();
    if (!s) return [];
    const list = this.bySession.get(s.id) ?? [];
    // list is in num_passing order with num = index + 1
    const end = before === null ? list.length : Math.min(list.length, Math.max(0, before - 1));
    const start = Math.max(0, end - Math.max(1, Math.min(limit, 10_000)));
    return list
      .slice(start, end)
      .filter((p) => p.corrects_id === null)
      .map((p) => this.feedEntry(p));
  }

  async subscribeFeed(cb: (batch: FeedBatch) => void): Promise<Unsubscribe> {
    await this.latency();
    this.feedSubs.add(cb);
    return () => {
      this.feedSubs.delete(cb);
    };
  }

  // --- Host: manual entry ----------------------------------------------------------------

  async manualMark(bibs: string, pressedAt: number, confirmed = false): Promise<ManualResult> {
    await this.latency();
    const s = this.requireRecording();
    const list = this.parseBibs(bibs, true, confirmed);
    const { time, warning } = this.stampTime(pressedAt);
    if (list.length === 0) return this.stamped(this.stampBibless(s, time), warning);
    const warnings = this.warningsFor(s, list);
    const made = list.map((bib) => this.commitPassing(s, { bib, chip: null, time, source: "manual", rawReadId: null }));
    this.undo.push({ kind: "passings", ids: made.map((p) => p.id), requeue: null });
    return this.stamped(this.entry(made, warnings), warning);
  }

  async manualStamp(pressedAt: number): Promise<ManualResult> {
    await this.latency();
    const s = this.requireRecording();
    const { time, warning } = this.stampTime(pressedAt);
    return this.stamped(this.stampBibless(s, time), warning);
  }

  async manualAssign(bibs: string, confirmed = false): Promise<Entry> {
    await this.latency();
    const s = this.requireRecording();
    const list = this.parseBibs(bibs, false, confirmed);
    const waiting = (this.bySession.get(s.id) ?? []).filter((p) => p.source === "manual" && p.eff_bib === null && !p.voided);
    // The backend answers `conflict` here (the input is fine; the state does not allow it).
    if (waiting.length === 0) throw err("conflict", "No stamped time is waiting for a bib");
    if (list.length > waiting.length)
      throw err(
        "conflict",
        `${list.length} bibs typed but only ${waiting.length} stamped time${waiting.length === 1 ? " is" : "s are"} waiting`,
      );
    const warnings = this.warningsFor(s, list);
    const changed: MockPassing[] = [];
    list.forEach((bib, i) => {
      const p = waiting[i];
      this.setBib(p, bib, null, false);
      changed.push(p);
    });
    this.undo.push({ kind: "assign", ids: changed.map((p) => p.id) });
    return this.entry(changed, warnings);
  }

  async manualQueue(bibs: string, confirmed = false): Promise<Entry> {
    await this.latency();
    const s = this.requireRecording();
    const list = this.parseBibs(bibs, false, confirmed);
    const warnings = this.warningsFor(s, list);
    this.queue.push(...list);
    this.undo.push({ kind: "queue", bibs: list });
    return this.entry([], warnings);
  }

  async manualStampQueued(pressedAt: number): Promise<ManualResult> {
    await this.latency();
    const s = this.requireRecording();
    const { time, warning } = this.stampTime(pressedAt);
    const bib = this.queue.shift();
    if (bib === undefined) return this.stamped(this.stampBibless(s, time), warning);
    const warnings = this.warningsFor(s, [bib]);
    const p = this.commitPassing(s, { bib, chip: null, time, source: "manual", rawReadId: null });
    this.undo.push({ kind: "passings", ids: [p.id], requeue: bib });
    return this.stamped(this.entry([p], warnings), warning);
  }

  // --- Host: sync -----------------------------------------------------------------------

  async syncRetry(): Promise<void> {
    await this.latency();
    this.retries++;
    // As the backend: the wait ends now; a pause ends only if the cloud now accepts the key.
    if (this.stopped && !this.authBroken) {
      this.stopped = null;
      this.lastError = null;
      this.lastErrorCode = null;
    }
    if (this.online && !this.stopped) {
      this.lastError = null;
      this.lastErrorCode = null;
    }
    this.emitStatus(true);
  }

  async syncRetryParked(sessionId: number | null): Promise<number> {
    await this.latency();
    let n = 0;
    for (const [sid, list] of this.bySession) {
      if (sessionId !== null && sid !== sessionId) continue;
      for (const p of list) {
        if (p.sync_state !== "parked") continue;
        p.sync_state = "pending";
        p.sync_error = null;
        this.outbox.add(p);
        this.touch(p);
        n++;
      }
    }
    this.emitStatus(true);
    return n;
  }

  async manualUndo(): Promise<Entry> {
    await this.latency();
    this.requireRecording();
    const a = this.undo.pop();
    if (!a) throw err("invalid", "Nothing to undo");
    const changed: MockPassing[] = [];
    if (a.kind === "passings") {
      for (const id of a.ids) {
        const p = this.passings.get(id);
        if (p && !p.voided) {
          this.applyChange(p, { kind: "void" }, "undo");
          changed.push(p);
        }
      }
      if (a.requeue !== null) this.queue.unshift(a.requeue);
    } else if (a.kind === "assign") {
      for (const id of a.ids) {
        const p = this.passings.get(id);
        if (!p) continue;
        if (p.sync_state === "pending") this.setBib(p, null, null, false);
        else this.applyChange(p, { kind: "set_bib", bib: null }, "undo");
        changed.push(p);
      }
    } else {
      for (let i = a.bibs.length - 1; i >= 0; i--) {
        const at = this.queue.lastIndexOf(a.bibs[i]);
        if (at >= 0) this.queue.splice(at, 1);
      }
    }
    return this.entry(changed, []);
  }

  // --- Host: corrections ----------------------------------------------------------------

  async passingCorrect(num: number, change: ChangeInput, reason: string | null): Promise<Corrected> {
    await this.latency();
    const s = this.currentSession();
    if (!s) throw err("no_open_session", "No session: nothing to correct");
    const p = (this.bySession.get(s.id) ?? [])[num - 1];
    if (!p || p.num_passing !== num) throw err("invalid", `No passing #${num} in this session`);
    if (p.corrects_id !== null) throw err("invalid", `#${num} carries a correction; correct the original instead`);
    if (p.sync_state === "moved") throw err("invalid", `#${num} was moved to another session`);
    if (change.kind === "set_bib" && change.bib !== null && !BIB_RE.test(change.bib.trim()))
      throw err("invalid", `"${change.bib}" is not a bib (letters, digits and - only, at most 12)`);
    if (change.kind === "set_time" && Number.isNaN(Date.parse(change.time)))
      throw err("invalid", `"${change.time}" is not a time (expected UTC, e.g. 2026-05-10T09:31:02.070Z)`);
    if (change.kind === "void" && p.voided) throw err("invalid", `#${num} is already void`);
    if (change.kind === "restore" && !p.voided) throw err("invalid", `#${num} is not void`);
    const res = this.applyChange(p, change, reason?.trim() || null);
    return clone(res);
  }

  async passingAudit(passingId: number): Promise<Correction[]> {
    await this.latency();
    return clone(this.corrections.filter((c) => c.passing_id === passingId));
  }

  // --- Host: readers --------------------------------------------------------------------

  async readerProtocols(): Promise<ProtocolView[]> {
    await this.latency();
    return clone(READER_PROTOCOLS);
  }

  async readerPorts(): Promise<PortView[]> {
    await this.latency();
    return [
      { path: "/dev/ttyUSB0", description: "CP2102 USB to UART Bridge Controller on /dev/ttyUSB0" },
      { path: "/dev/ttyUSB1", description: "FT232R USB UART (FTDI) on /dev/ttyUSB1" },
      { path: "/dev/ttyACM0", description: "USB-CDC serial (Chafon UHF desktop reader) on /dev/ttyACM0" },
    ];
  }

  async readerAdd(name: string, spec: string): Promise<ReaderView> {
    await this.latency();
    const n = name.trim();
    if (!n) throw err("invalid", "The reader needs a name");
    if (this.readers.has(n)) throw err("invalid", `A reader called "${n}" already exists`);
    const m = /^(serial|tcp|sim):([^?]+)(\?(.*))?$/.exec(spec.trim());
    if (!m) throw err("invalid", `"${spec}" is not a reader spec (serial:PATH?protocol=… or tcp:HOST:PORT?protocol=…)`);
    const params = new URLSearchParams(m[4] ?? "");
    const protocol = params.get("protocol");
    if (m[1] !== "sim" && !protocol) throw err("invalid", "The spec needs ?protocol=…");
    const known = READER_PROTOCOLS.find((p) => p.name === protocol);
    if (m[1] !== "sim" && !known) throw err("invalid", `Unknown protocol "${protocol}"`);
    if (known && !known.transports.includes(m[1])) throw err("invalid", `A ${protocol} reader is not reached over ${m[1]}`);
    if (m[1] === "tcp" && !/^[^:]+:\d{1,5}$/.test(m[2])) throw err("invalid", "A network reader needs HOST:PORT");
    const rd = this.addReader(n, spec.trim(), m[1] === "sim");
    rd.view.state = "connecting";
    setTimeout(() => this.connectReader(rd, m[1], m[2]), this.timers.length ? 600 : 0);
    return clone(rd.view);
  }

  async readerRemove(name: string): Promise<void> {
    await this.latency();
    this.reader(name);
    this.readers.delete(name);
    this.emit("readers", this.readerViews());
  }

  async readerStart(name: string): Promise<ReaderView> {
    await this.latency();
    const rd = this.reader(name);
    if (rd.view.state === "stopped") {
      rd.view.state = "connecting";
      const m = /^(serial|tcp|sim):([^?]+)/.exec(rd.view.spec);
      setTimeout(() => this.connectReader(rd, m?.[1] ?? "sim", m?.[2] ?? ""), this.timers.length ? 400 : 0);
    }
    this.emit("readers", this.readerViews());
    return clone(rd.view);
  }

  async readerStop(name: string): Promise<ReaderView> {
    await this.latency();
    const rd = this.reader(name);
    rd.view.state = "stopped";
    rd.view.reads_per_sec = 0;
    this.emit("readers", this.readerViews());
    return clone(rd.view);
  }

  async readerSetClock(name: string): Promise<ReaderView> {
    await this.latency();
    const rd = this.reader(name);
    if (rd.offset === null) throw err("invalid", `${name} has no clock of its own (it is stamped with this computer's time)`);
    if (rd.view.state === "lost" || rd.view.state === "stopped") throw err("reader_unavailable", `${name} is not connected`);
    rd.offset = Math.round((this.r() - 0.5) * 4);
    rd.view.clock_offset_ms = rd.offset;
    this.emit("readers", this.readerViews());
    return clone(rd.view);
  }

  async readerFrames(name: string): Promise<FrameView[]> {
    await this.latency();
    return clone(this.reader(name).frames);
  }

  async readerZones(): Promise<ZoneList> {
    await this.latency();
    return { computer: MOCK_COMPUTER_ZONE, zones: [...MOCK_ZONES].sort() };
  }

  async readerSetZone(name: string, zone: string): Promise<ReaderView> {
    await this.latency();
    const rd = this.reader(name);
    if (!rd.view.zone_settable) {
      throw err("conflict", `reader \`${name}\` does not send local time: a zone changes nothing`);
    }
    const z = zone.trim();
    if (z && !MOCK_ZONES.includes(z) && !/^[+-]\d{2}:\d{2}$/.test(z)) {
      throw err("invalid", `zone: unknown time zone "${z}": use an IANA name such as Europe/Madrid, or an offset such as +02:00`);
    }
    rd.view.spec = setSpecParam(rd.view.spec, "zone", z || null);
    rd.view.clock_zone = z || MOCK_COMPUTER_ZONE;
    // The mock's reader clocks agree with the computer once read in the zone proposed.
    if (z && z === rd.view.proposed_zone) {
      rd.offset = 0;
      rd.view.clock_offset_ms = 0;
    }
    rd.view.clock_hint = null;
    rd.view.proposed_zone = null;
    this.emit("readers", this.readerViews());
    return clone(rd.view);
  }

  async readerAdjust(name: string, ms: number): Promise<ReaderView> {
    await this.latency();
    const rd = this.reader(name);
    if (!/^(serial|tcp):/.test(rd.view.spec)) {
      throw err("conflict", `\`${name}\` is not timing hardware: it has no clock zone or time adjustment`);
    }
    if (!Number.isInteger(ms) || Math.abs(ms) > 3_600_000) {
      throw err("invalid", `adjust_ms: ${ms} ms is not whole milliseconds within an hour`);
    }
    rd.view.adjust_ms = ms;
    rd.view.spec = setSpecParam(rd.view.spec, "adjust_ms", ms === 0 ? null : String(ms));
    this.emit("readers", this.readerViews());
    return clone(rd.view);
  }

  /** Test hook: the reader's clock disagrees with the computer's (with the hint the backend gives). */
  setReaderClock(name: string, offsetMs: number, hint: string | null, proposedZone: string | null): void {
    const rd = this.reader(name);
    rd.offset = offsetMs;
    rd.view.clock_offset_ms = offsetMs;
    rd.view.clock_hint = hint;
    rd.view.proposed_zone = proposedZone;
    this.emit("readers", this.readerViews());
  }

  // --- Host: participants & export ------------------------------------------------------

  async participantsImport(bytes: Uint8Array): Promise<ImportReport> {
    await this.latency();
    const lines = decodeText(bytes).split(/\r?\n/);
    let accepted = 0;
    const rejected: [number, string][] = [];
    const seen = new Set<string>();
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (!line) continue;
      const cols = line.split(/[;,\t]/).map((c) => c.trim().replace(/^"|"$/g, ""));
      if (i === 0 && /bib/i.test(cols[0] ?? "")) continue;
      const [bib, name, chip] = cols;
      let why: string | null = null;
      if (!bib) why = "no bib";
      else if (!BIB_RE.test(bib)) why = `"${bib}" is not a bib`;
      else if (seen.has(bib)) why = `bib ${bib} appears twice`;
      else if (chip && !/^[0-9A-Fa-f]{4,32}$/.test(chip)) why = `chip "${chip}" is not hex`;
      if (why) {
        rejected.push([i + 1, why]);
        continue;
      }
      seen.add(bib);
      const ru: Runner = { bib, name: name ?? "", chip: (chip || chipForBib(bib)).toUpperCase() };
      this.participants.set(bib, ru);
      this.chipMap.set(ru.chip, bib);
      accepted++;
    }
    if (accepted === 0 && rejected.length === 0) throw err("invalid", "The file has no rows");
    return { accepted, rejected };
  }

  async exportCsv(what: ExportWhat): Promise<string> {
    await this.latency();
    const s = this.currentSession();
    if (!s) throw err("no_open_session", "No session to export");
    const stamp = isoUtc(this.now()).slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
    return `/home/timer/.local/share/rufus-timing-console/exports/session-${s.id}-${what}-${stamp}.csv`;
  }

  // --- Host: updates --------------------------------------------------------------------

  async updateStatus(): Promise<UpdateStatus> {
    await this.latency();
    return this.updateView();
  }

  async updateInstall(): Promise<UpdateStatus> {
    await this.latency();
    const u = this.updates;
    if (!u.enabled) throw err("updates_disabled", "this build does not check for updates: install a new version by hand");
    if (u.available === null) throw err("no_update", "no update is available");
    // As the backend: decided now, whatever the screen showed.
    const why = updateBlockedReason(this.updateFacts());
    if (why !== null)
      throw err(
        "busy",
        `Not now: ${why}. An update is installed only between races: close the session and let every passing sync first.`,
      );
    this.updates = { ...u, installed: u.available, available: null, notes: null };
    this.emitUpdate(true);
    return this.updateView();
  }

  // --- Host: events ---------------------------------------------------------------------

  async onEvent<K extends EventName>(name: K, cb: (payload: EventPayloads[K]) => void): Promise<Unsubscribe> {
    const set = this.listeners[name] as Set<(p: EventPayloads[K]) => void>;
    set.add(cb);
    return () => {
      set.delete(cb);
    };
  }

  // ======================================================================================
  // internals
  // ======================================================================================

  private latency(): Promise<void> {
    if (this.latencyMs <= 0) return Promise.resolve();
    return new Promise((res) => setTimeout(res, this.latencyMs));
  }

  private startTimers(): void {
    this.timers.push(
      setInterval(() => {
        const t = this.now();
        this.step(Math.min(1000, t - this.lastTick));
        this.lastTick = t;
      }, 25),
    );
    this.timers.push(setInterval(() => this.flushFeed(), 50));
    this.timers.push(setInterval(() => this.emitStatus(false), 250));
    this.timers.push(setInterval(() => this.emit("clock", this.clockStatus()), 1000));
  }

  private setupDemo(): void {
    this.apiKey = "demo-key-0000";
    const dev: Device = {
      deviceid: "dv_19c04455",
      serial_number: "TC-LAPTOP-01",
      model: "Timing Console",
      device_type: "custom",
      alias: "Laptop A",
      firmware: "0.1.0",
      api_base_url: PRODUCTION_API,
      bound_at: isoUtc(this.now() - 86_400_000),
    };
    this.bound.push(dev);
    this.currentDeviceId = dev.deviceid;
    const s = this.createSession(dev.deviceid, "Valencia 10K — Finish");
    s.opened_at = isoUtc(this.now() - 47 * 60_000);
    s.token_session = "tk_demo01";
    s.state = "active";
    this.seed(180, "sent");
    this.seed(40, "pending");
    this.addReader("backup-ultra", "tcp:192.0.2.50:23?protocol=ultra", false).view.state = "quiet";
    // An LLRP reader asked for more power on antenna 1 than its table has (it applies 81).
    const llrp = this.addReader("mat-llrp", "tcp:192.0.2.60:5084?protocol=llrp&power=1:90,2:60&sensitivity=10", false);
    this.connectReader(llrp, "tcp", "192.0.2.60:5084");
    const sim = this.readers.get("sim-finish");
    if (sim) sim.view.rate_history = [2.2, 3.1, 4.8, 6.5, 5.2, 3.9, 4.4, 7.8, 9.6, 6.1, 4.7, 5.0];
  }

  private ensureRecordingSession(): Session {
    const cur = this.currentSession();
    if (cur && this.isRecording(cur)) return cur;
    let dev = this.currentDevice();
    if (!dev) {
      dev = {
        deviceid: "dv_bench0001",
        serial_number: "BENCH-0001",
        model: "Timing Console",
        device_type: "custom",
        alias: "Bench",
        firmware: null,
        api_base_url: this.settings.api_url,
        bound_at: isoUtc(this.now()),
      };
      this.bound.push(dev);
      this.currentDeviceId = dev.deviceid;
    }
    const s = this.createSession(dev.deviceid, "Benchmark");
    this.emitSession();
    return s;
  }

  private createSession(deviceid: string, alias: string | null): Session {
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

  private currentDevice(): Device | null {
    return this.bound.find((d) => d.deviceid === this.currentDeviceId) ?? null;
  }

  private currentSession(): Session | null {
    const id = this.currentDeviceId;
    if (!id) return null;
    for (let i = this.sessions.length - 1; i >= 0; i--) if (this.sessions[i].deviceid === id) return this.sessions[i];
    return null;
  }

  private isRecording(s: Session): boolean {
    return s.state === "opening" || s.state === "active";
  }

  private sessionById(id: number): Session {
    const s = this.sessions.find((x) => x.id === id);
    if (!s) throw err("not_found", `No session ${id}`);
    return s;
  }

  private requireKey(): void {
    if (!this.apiKey) throw err("no_api_key", "No RUFUS API key: enter one in Settings");
  }

  private requireRecording(): Session {
    const s = this.currentSession();
    if (!s || !this.isRecording(s)) throw err("no_open_session", "No session is open: open one to record passings");
    return s;
  }

  private parseBibs(text: string, allowEmpty: boolean, confirmed = false): string[] {
    const list = text
      .split(/[,\s]+/)
      .map((b) => b.trim())
      .filter((b) => b.length > 0);
    if (list.length === 0 && !allowEmpty) throw err("invalid", "Type at least one bib");
    for (const b of list)
      if (!BIB_RE.test(b)) throw err("invalid", `"${b}" is not a bib (letters, digits and - only, at most 12)`);
    if (list.length > CONFIRM_ABOVE && !confirmed)
      throw err("confirmation_required", `${list.length} bibs in one entry: confirm to record them all`);
    return list;
  }

  /** The key press time when the host clock vouches for it, else now and why (as the backend). */
  private stampTime(pressedAt: number | undefined): { time: number; warning: string | null } {
    const now = this.now();
    if (pressedAt === undefined || !Number.isFinite(pressedAt)) return { time: now, warning: null };
    if (pressedAt > now + KEY_PRESS_FUTURE_MS)
      return { time: now, warning: `the key press time ${isoUtc(pressedAt)} is ahead of this computer's clock; stamped now` };
    if (now - pressedAt > KEY_PRESS_PAST_MS)
      return { time: now, warning: `the key press time ${isoUtc(pressedAt)} is too old to trust; stamped now` };
    return { time: pressedAt, warning: null };
  }

  private stamped(entry: Entry, timeWarning: string | null): ManualResult {
    return { ...entry, time_warning: timeWarning };
  }

  private captureStatus(): CaptureStatus {
    return { last_error: this.commitError, queued: this.captureQueued };
  }

  private warningsFor(s: Session, bibs: string[]): Warning[] {
    const out: Warning[] = [];
    const list = this.bySession.get(s.id) ?? [];
    const seenNow = new Set<string>();
    for (const bib of bibs) {
      if (this.participants.size > 0 && !this.participants.has(bib)) out.push({ kind: "unknown_bib", bib });
      const earlier = list.find((p) => p.eff_bib === bib && !p.voided);
      if (earlier) out.push({ kind: "repeated_bib", bib, earlier_num: earlier.num_passing });
      else if (seenNow.has(bib)) out.push({ kind: "repeated_bib", bib, earlier_num: s.next_num_passing });
      seenNow.add(bib);
    }
    return out;
  }

  private stampBibless(s: Session, time: number): Entry {
    const p = this.commitPassing(s, { bib: null, chip: null, time, source: "manual", rawReadId: null });
    this.undo.push({ kind: "passings", ids: [p.id], requeue: null });
    return this.entry([p], []);
  }

  private entry(passings: MockPassing[], warnings: Warning[]): Entry {
    return clone({ passings: passings.map((p) => this.plain(p)), warnings, queued: this.queue });
  }

  private plain(p: MockPassing): Passing {
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

  private commitPassing(
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

  private touch(p: MockPassing): void {
    if (p.corrects_id !== null) return; // carriers are not feed rows
    this.changed.delete(p.id);
    this.changed.set(p.id, p);
  }

  private setBib(p: MockPassing, bib: string | null, reason: string | null, audit: boolean): void {
    const old = p.eff_bib;
    p.eff_bib = bib;
    if (p.sync_state === "pending" || p.sync_state === "parked") p.bib = bib;
    if (audit) this.audit(p, "set_bib", old, bib, reason, null);
    this.touch(p);
  }

  private audit(
    p: MockPassing,
    kind: Correction["kind"],
    oldV: string | null,
    newV: string | null,
    reason: string | null,
    carrier: MockPassing | null,
  ): Correction {
    const c: Correction = {
      id: this.nextCorrectionId++,
      passing_id: p.id,
      kind,
      old_value: oldV,
      new_value: newV,
      operator: this.settings.operator || "operator",
      station: this.settings.station,
      reason,
      at: isoUtc(this.now()),
      carrier_id: carrier?.id ?? null,
    };
    this.corrections.push(c);
    return c;
  }

  /** A correction: in place while the cloud has not seen the passing, else a carrier passing. */
  private applyChange(p: MockPassing, change: ChangeInput, reason: string | null): Corrected {
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
        this.outbox.add(p);
      }
    } else {
      const s = this.sessionById(p.session_id);
      carrier = this.commitPassing(s, {
        bib: p.eff_bib,
        chip: p.chip,
        time: Date.parse(p.eff_time),
        source: p.source,
        rawReadId: p.raw_read_id,
      });
      carrier.corrects_id = p.id;
      carrier.status = p.voided ? `void #${p.num_passing}` : `correction of #${p.num_passing}`;
      this.changed.delete(carrier.id);
    }
    const correction = this.audit(p, change.kind, oldV, newV, reason, carrier);
    this.touch(p);
    return { correction, carrier: carrier ? this.plain(carrier) : null };
  }

  private feedEntry(p: MockPassing): FeedEntry {
    const bib = p.eff_bib;
    const ru = bib ? this.participants.get(bib) : undefined;
    return {
      id: p.id,
      session_id: p.session_id,
      num_passing: p.num_passing,
      bib,
      chip: p.chip,
      name: ru?.name ?? null,
      // The mock keeps no categories or starts yet: a listed runner is in the one wave.
      category: null,
      wave: ru ? "" : null,
      race_time_ms: null,
      timestamp: p.eff_time,
      source: p.source,
      void: p.voided,
      corrected: p.corrected,
      unknown_chip: p.source === "reader" && p.chip !== null && this.participants.size > 0 && !this.chipMap.has(p.chip),
      sync_state: p.sync_state,
      sync_error: p.sync_error,
    };
  }

  private markSent(p: MockPassing, notify: boolean): void {
    p.sync_state = "sent";
    p.sync_attempts++;
    p.sync_error = null;
    p.sent_at = isoUtc(this.now());
    p.in_cloud = true;
    this.outbox.delete(p);
    this.sentTotal++;
    if (notify) this.touch(p);
  }

  private outboxCounts(sessionId: number | null): OutboxCounts {
    const c: OutboxCounts = { pending: 0, sent: 0, parked: 0, held: 0 };
    const lists = sessionId === null ? [...this.bySession.values()] : [this.bySession.get(sessionId) ?? []];
    for (const list of lists)
      for (const p of list) {
        if (p.sync_state === "pending") {
          if (this.isHeld(p)) c.held++;
          else c.pending++;
        } else if (p.sync_state === "sent") c.sent++;
        else if (p.sync_state === "parked") c.parked++;
      }
    return c;
  }

  private isHeld(p: MockPassing): boolean {
    return p.bib === null && p.chip === null && !p.voided;
  }

  private syncStatus(): SyncStatus {
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

  private keyStorage(): KeyStorage {
    if (!this.apiKey) return { kind: "none" };
    if (this.keyKind === "file")
      return {
        kind: "file",
        reason:
          "No Secret Service on this system (D-Bus is not running), so the key is in an encrypted file in the app data folder",
      };
    return { kind: "keychain" };
  }

  private clockStatus(): ClockStatus {
    return { host_utc: isoUtc(this.now()), last_jump_ms: this.lastJumpMs };
  }

  // --- simulation step ------------------------------------------------------------------

  private step(dt: number): void {
    const t = this.now();
    for (const rd of this.readers.values()) this.stepReader(rd, t, dt);
    this.stepSync(t, dt);
  }

  private stepReader(rd: MockReader, t: number, dt: number): void {
    const v = rd.view;
    if (t - rd.windowStart >= 5000) {
      v.rate_history = [...v.rate_history.slice(-11), Math.round((rd.windowReads / 5) * 10) / 10];
      rd.windowReads = 0;
      rd.windowStart = t;
    }
    rd.recent = rd.recent.filter((x) => t - x < 1000);
    v.reads_per_sec = rd.recent.length;
    if (!rd.sim || !["connected", "reading", "quiet"].includes(v.state) || rd.rate <= 0) {
      if (v.state === "reading" && (!v.last_read || t - Date.parse(v.last_read.at) > 10_000)) v.state = "quiet";
      return;
    }
    // Bunches: most of the time a trickle, now and then a pack arrives together.
    if (t >= rd.nextBurstCheck) {
      rd.nextBurstCheck = t + 1000;
      if (t >= rd.burstUntil && this.r() < 0.12) rd.burstUntil = t + 1500 + this.r() * 1500;
    }
    const factor = t < rd.burstUntil ? 2.6 : 0.75;
    rd.carry += (rd.rate * factor * dt) / 1000;
    let n = Math.floor(rd.carry);
    rd.carry -= n;
    if (n > 0 && v.state !== "reading") v.state = "reading";
    while (n-- > 0) {
      // A failing commit keeps the reads waiting (and retried), as the backend's capture does.
      if (this.commitError) this.captureQueued++;
      else this.simRead(rd, t);
    }
    if (v.state === "reading" && (!v.last_read || t - Date.parse(v.last_read.at) > 10_000)) v.state = "quiet";
  }

  private simRead(rd: MockReader, t: number): void {
    const readerTime = t + (rd.offset ?? 0);
    let chip: string;
    // A tag is often read several times as it crosses the mat.
    if (rd.recentChips.length > 0 && this.r() < 0.25) {
      chip = rd.recentChips[Math.floor(this.r() * rd.recentChips.length)];
    } else if (this.r() < 0.02) {
      chip = `E2806894000040${randomHex(this.r, 5).toUpperCase()}`;
    } else {
      chip = this.finishOrder[this.finishCursor++ % this.finishOrder.length].chip;
    }
    rd.recentChips.push(chip);
    if (rd.recentChips.length > 20) rd.recentChips.shift();
    const rawId = this.nextRawId++;
    rd.recent.push(t);
    rd.windowReads++;
    rd.view.reads++;
    rd.view.last_read = { chip, at: isoUtc(readerTime) };
    this.rawSince++;
    const seen = rd.lastSeen.get(chip);
    const dup = seen !== undefined && readerTime - seen < this.settings.dedup_window_s * 1000;
    if (!dup) rd.lastSeen.set(chip, readerTime);
    if (rd.lastSeen.size > 5000) rd.lastSeen.clear();
    const ant = 1 + Math.floor(this.r() * 4);
    const rssi = -45 - Math.floor(this.r() * 30);
    rd.frames.push({
      at: isoUtc(t),
      hex: `aa00${chip.slice(-12).toLowerCase()}0${ant}01${isoUtc(readerTime).slice(2, 23).replace(/\D/g, "")}`,
      summary: `${dup ? "duplicate " : ""}chip ${chip} antenna ${ant} rssi ${rssi} dBm`,
    });
    if (rd.frames.length > 50) rd.frames.shift();
    if (dup) {
      this.dupSince++;
      return;
    }
    const s = this.currentSession();
    if (!s || !this.isRecording(s)) return;
    const bib = this.chipMap.get(chip) ?? null;
    this.commitPassing(s, { bib, chip, time: readerTime, source: "reader", rawReadId: rawId });
  }

  private stepSync(t: number, dt: number): void {
    if (!this.apiKey || this.stopped) return;
    if (!this.online) {
      if (this.outbox.size > 0) {
        this.lastError = "No answer from RUFUS within 10 s (network down?). Retrying with back-off.";
        this.lastErrorCode = "timeout";
      }
      return;
    }
    // Sessions get their cloud token, closing sessions close once drained.
    for (const s of this.sessions) {
      if (s.state === "opening" && t - Date.parse(s.opened_at) >= 300) {
        s.token_session = `tk_${randomHex(this.r, 6)}`;
        s.state = "active";
        s.note = null;
        const cloud = this.account.find((d) => d.deviceid === s.deviceid);
        if (cloud) cloud.sessions = (cloud.sessions ?? 0) + 1;
        this.emitSession();
      }
    }
    this.syncCarry += (this.syncRate * dt) / 1000;
    let budget = Math.floor(this.syncCarry);
    this.syncCarry -= budget;
    let sent = 0;
    if (budget > 0) {
      for (const p of this.outbox) {
        if (budget <= 0) break;
        const s = this.sessionById(p.session_id);
        if (!s.token_session || s.state === "closed_remotely" || s.state === "closed") continue;
        if (this.isHeld(p)) continue;
        budget--;
        const bib = p.bib;
        if (bib !== null && !CLOUD_BIB_RE.test(bib)) {
          p.sync_state = "parked";
          p.sync_attempts++;
          p.sync_error = `400 Bad Request: bib "${bib}" is not valid in RUFUS (letters and digits, at most 10)`;
          this.outbox.delete(p);
          this.touch(p);
          continue;
        }
        this.markSent(p, true);
        const cloud = this.account.find((d) => d.deviceid === s.deviceid);
        if (cloud) cloud.passings = (cloud.passings ?? 0) + 1;
        sent++;
      }
    }
    if (sent > 0) {
      this.sentLog.push({ at: t, n: sent });
      this.lastSuccess = isoUtc(t);
      this.lastError = null;
      this.lastErrorCode = null;
    }
    for (const s of this.sessions) {
      if (s.state !== "closing" || !s.token_session) continue;
      const left = (this.bySession.get(s.id) ?? []).some((p) => p.sync_state === "pending" && !this.isHeld(p));
      if (!left) {
        s.state = "closed";
        s.closed_at = isoUtc(t);
        s.note = null;
        this.emitSession();
      }
    }
  }

  // --- readers --------------------------------------------------------------------------

  private addReader(name: string, spec: string, sim: boolean): MockReader {
    const params = new URLSearchParams(spec.split("?")[1] ?? "");
    const rateM = /rate=(\d+(\.\d+)?)/.exec(spec);
    // The simulated finish speaks `lines`, as in the engine (`sim:` implies the protocol).
    const protocol = params.get("protocol") ?? "lines";
    const hasClock = READER_PROTOCOLS.some((p) => p.name === protocol && p.carries_time);
    const t = this.now();
    const rd: MockReader = {
      view: {
        name,
        spec,
        protocol,
        state: sim ? "connected" : "connecting",
        last_error: null,
        warning: null,
        reads_per_sec: 0,
        rate_history: Array(12).fill(0),
        reads: 0,
        rejected: 0,
        last_read: null,
        clock_offset_ms: hasClock ? (sim ? 143 : 0) : null,
        clock_zone:
          sim || !hasClock
            ? null
            : SENDS_UTC.has(protocol)
              ? "UTC (reader sends UTC)"
              : (params.get("zone") ?? params.get("utc_offset") ?? MOCK_COMPUTER_ZONE),
        zone_settable: !sim && hasClock && !SENDS_UTC.has(protocol),
        clock_hint: null,
        proposed_zone: null,
        adjust_ms: Number(params.get("adjust_ms") ?? 0) || 0,
        settings: [],
      },
      sim,
      rate: sim && rateM ? Number(rateM[1]) : 0,
      recent: [],
      windowReads: 0,
      windowStart: t,
      frames: [],
      lastSeen: new Map(),
      recentChips: [],
      burstUntil: 0,
      nextBurstCheck: t,
      carry: 0,
      offset: hasClock ? (sim ? 143 : 0) : null,
    };
    this.readers.set(name, rd);
    return rd;
  }

  private connectReader(rd: MockReader, kind: string, target: string): void {
    if (rd.view.state !== "connecting") return;
    if (kind === "serial" && !["/dev/ttyUSB0", "/dev/ttyUSB1", "/dev/ttyACM0"].includes(target)) {
      rd.view.state = "lost";
      rd.view.last_error = `${target}: no such serial port (unplugged?). Retrying every 2 s.`;
    } else if (kind === "tcp" && target.startsWith("10.")) {
      rd.view.state = "lost";
      rd.view.last_error = `connect ${target}: connection timed out. Retrying.`;
    } else {
      rd.view.state = rd.sim ? "connected" : "quiet";
      rd.view.last_error = null;
      if (rd.view.protocol === "llrp") {
        const back = llrpReadBack(rd.view.spec);
        rd.view.settings = back.settings;
        rd.view.warning = back.warning;
      }
    }
    this.emit("readers", this.readerViews());
  }

  private reader(name: string): MockReader {
    const rd = this.readers.get(name);
    if (!rd) throw err("not_found", `No reader called "${name}"`);
    return rd;
  }

  private readerViews(): ReaderView[] {
    return [...this.readers.values()].map((rd) => clone(rd.view));
  }

  // --- events ---------------------------------------------------------------------------

  private emit<K extends EventName>(name: K, payload: EventPayloads[K]): void {
    for (const cb of this.listeners[name]) (cb as (p: EventPayloads[K]) => void)(payload);
  }

  private updateFacts(): UpdateFacts {
    const s = this.currentSession();
    return {
      sessionOpen: s !== null && ["opening", "active", "closing", "closed_remotely"].includes(s.state),
      pending: this.syncStatus().pending,
      uncommittedReads: this.captureQueued,
    };
  }

  private updateView(): UpdateStatus {
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

  /** Like the backend's status loop: only a build that checks for updates says anything. */
  private emitUpdate(force: boolean): void {
    if (!this.updates.enabled) return;
    const view = this.updateView();
    const json = JSON.stringify(view);
    if (force || json !== this.lastUpdateJson) {
      this.lastUpdateJson = json;
      this.emit("update", view);
    }
  }

  private emitSession(): void {
    this.emit("session", clone(this.currentSession()));
  }

  private emitStatus(force: boolean): void {
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

export function createMockHost(opts: MockOptions = {}): MockHost {
  return new MockHost(opts);
}

/** `spec` with option `key` set to `value` (or removed, for null). */
/** `60` (all antennas, key 0) or `1:60,2:55` → antenna → index; invalid parts are left out. */
function perAntenna(text: string | null): Map<number, number> {
  const out = new Map<number, number>();
  for (const part of (text ?? "").split(",")) {
    const [a, v] = part.includes(":") ? part.split(":") : ["0", part];
    if (/^\s*\d+\s*$/.test(a) && /^\s*\d+\s*$/.test(v)) out.set(Number(a), Number(v));
  }
  return out;
}

/**
 * What the mock LLRP reader reads back after its configuration, as the Rust conversation
 * reports it: an Impinj R420-like reader with antennas on ports 1 and 2 of 4, an 81-entry power
 * table (more is clamped) and 42 sensitivity entries, factory power 81 and sensitivity 1.
 */
export function llrpReadBack(spec: string): { settings: ReaderSettingView[]; warning: string | null } {
  const params = new URLSearchParams(spec.split("?")[1] ?? "");
  const power = perAntenna(params.get("power"));
  const sensitivity = perAntenna(params.get("sensitivity"));
  const ports = [1, 2, 3, 4];
  const connected = [1, 2];
  const settings: ReaderSettingView[] = [
    { name: "connected antennas", asked: null, applied: connected.join(", "), differs: false },
  ];
  const problems: string[] = [];
  const asked = (table: Map<number, number>, id: number) => table.get(id) ?? table.get(0) ?? null;
  for (const id of ports) {
    const p = asked(power, id);
    const s = asked(sensitivity, id);
    const rows: [string, string, number | null, number][] = [
      ["power", "transmit power", p, p === null ? 81 : Math.min(p, 81)],
      ["sensitivity", "receive sensitivity", s, s === null ? 1 : Math.min(s, 42)],
    ];
    const views = rows.map(([what, words, want, got]) => {
      const differs = want !== null && want !== got;
      if (differs) problems.push(`antenna ${id}: ${words} ${want} asked, ${got} applied`);
      return { name: `antenna ${id} ${what}`, asked: want === null ? null : String(want), applied: String(got), differs };
    });
    if (connected.includes(id) || power.has(id) || sensitivity.has(id) || views.some((v) => v.differs)) settings.push(...views);
  }
  for (const id of new Set([...power.keys(), ...sensitivity.keys()])) {
    if (id !== 0 && !ports.includes(id)) problems.push(`antenna ${id} is not on this reader`);
  }
  return { settings, warning: problems.length ? problems.join("; ") : null };
}

function setSpecParam(spec: string, key: string, value: string | null): string {
  const [target, query = ""] = spec.split("?");
  const kept = query.split("&").filter((p) => p && p.split("=")[0] !== key);
  if (value !== null) kept.push(`${key}=${value}`);
  return kept.length ? `${target}?${kept.join("&")}` : target;
}
