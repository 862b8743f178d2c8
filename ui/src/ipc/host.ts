// The Host interface: the one typed surface between the UI and whatever runs the console
// (the real Tauri backend in tauri.ts, or the in-memory mock in mock.ts). One method per
// command listed in bindings.gen.ts COMMANDS, plus the live feed and the status events.
// Nothing outside src/ipc/ knows how these calls travel.

import type {
  AppState,
  BindInput,
  ChangeInput,
  CloudDevice,
  CloudSession,
  Corrected,
  Correction,
  Device,
  Entry,
  EVENTS,
  FeedBatch,
  FeedEntry,
  FrameView,
  EventPayloads as GeneratedEventPayloads,
  ImportReport,
  IpcError,
  KeyStorage,
  ManualResult,
  PortView,
  ProtocolView,
  ReaderView,
  ReconcileReport,
  Session,
  SessionDetails,
  Settings,
  UpdateStatus,
  ZoneList,
} from "./bindings.gen";

export type * from "./bindings.gen";

/** Payloads of the status events by short name, derived from the generated URI-keyed map. */
export type EventPayloads = {
  [K in keyof typeof EVENTS]: GeneratedEventPayloads[(typeof EVENTS)[K]];
};

export type EventName = keyof EventPayloads;
export type Unsubscribe = () => void;
export type ExportWhat = "passings" | "raw";

export interface Host {
  /** "tauri" for the real app, "mock" for the in-memory host. */
  readonly kind: "tauri" | "mock";

  appState(): Promise<AppState>;
  settingsSet(settings: Settings): Promise<Settings>;
  apiKeySet(key: string): Promise<KeyStorage>;
  apiKeyClear(): Promise<KeyStorage>;

  deviceBind(input: BindInput): Promise<Device>;
  deviceList(): Promise<Device[]>;
  deviceCloudList(): Promise<CloudDevice[]>;
  deviceSelect(deviceid: string): Promise<Device>;
  deviceUnbind(deviceid: string, confirmed: boolean): Promise<void>;

  sessionOpen(alias: string | null): Promise<Session>;
  sessionClose(): Promise<Session>;
  sessionList(): Promise<Session[]>;
  sessionCloudList(): Promise<CloudSession[]>;
  sessionDetails(sessionId: number): Promise<SessionDetails>;
  sessionReconcile(sessionId: number): Promise<ReconcileReport>;
  sessionResendMissing(sessionId: number): Promise<number>;
  sessionRehome(fromSessionId: number): Promise<number>;

  feedPage(before: number | null, limit: number): Promise<FeedEntry[]>;
  /** Live feed: new or changed entries about every 50 ms, newest last. */
  subscribeFeed(cb: (batch: FeedBatch) => void): Promise<Unsubscribe>;

  /**
   * Stamps carry the key press time (`Date.now()` at keydown, ms since epoch); the backend
   * bounds it against its clock and says why in `time_warning` when it stamped now instead.
   * More than 50 bibs in one entry reject with `confirmation_required` unless `confirmed`.
   */
  manualMark(bibs: string, pressedAt: number, confirmed?: boolean): Promise<ManualResult>;
  manualStamp(pressedAt: number): Promise<ManualResult>;
  manualAssign(bibs: string, confirmed?: boolean): Promise<Entry>;
  manualQueue(bibs: string, confirmed?: boolean): Promise<Entry>;
  manualStampQueued(pressedAt: number): Promise<ManualResult>;
  manualUndo(): Promise<Entry>;

  /** "Retry now": ends a backoff, a Retry-After wait or a pause after 401/403. */
  syncRetry(): Promise<void>;
  /** Puts parked passings (of one session, or all) back into the outbox; returns how many. */
  syncRetryParked(sessionId: number | null): Promise<number>;

  passingCorrect(num: number, change: ChangeInput, reason: string | null): Promise<Corrected>;
  passingAudit(passingId: number): Promise<Correction[]>;

  readerProtocols(): Promise<ProtocolView[]>;
  readerPorts(): Promise<PortView[]>;
  readerAdd(name: string, spec: string): Promise<ReaderView>;
  readerRemove(name: string): Promise<void>;
  readerStart(name: string): Promise<ReaderView>;
  readerStop(name: string): Promise<ReaderView>;
  readerSetClock(name: string): Promise<ReaderView>;
  readerFrames(name: string): Promise<FrameView[]>;
  /** This computer's zone and the IANA names, for a reader's clock-zone field. */
  readerZones(): Promise<ZoneList>;
  /** The zone a reader's clock is read in ("" = this computer's); re-creates the reader. */
  readerSetZone(name: string, zone: string): Promise<ReaderView>;
  /** Milliseconds added to a reader's passing times from now on (live; audited). */
  readerAdjust(name: string, ms: number): Promise<ReaderView>;

  /** The file's bytes as read from disk (any encoding; the backend decodes them). */
  participantsImport(bytes: Uint8Array): Promise<ImportReport>;
  exportCsv(what: ExportWhat): Promise<string>;

  /** The updater: `enabled` is false in a build without an update endpoint (show nothing). */
  updateStatus(): Promise<UpdateStatus>;
  /**
   * Downloads, verifies and installs the available update. Rejects with `busy` while a session
   * is open or passings are pending (checked by the backend at that moment); then restart.
   */
  updateInstall(): Promise<UpdateStatus>;

  onEvent<K extends EventName>(name: K, cb: (payload: EventPayloads[K]) => void): Promise<Unsubscribe>;
}

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
