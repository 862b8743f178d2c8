// The status store: device, session, sync, readers, clock, settings and key storage, loaded
// once with app_state() and then kept current by the host's status events. Everything the
// "state is unmissable" promise shows (recording indicator, sync pill, reader tiles, clock)
// reads from here.

import type {
  AppState,
  CaptureStatus,
  ClockStatus,
  Device,
  Host,
  KeyStorage,
  ReaderView,
  Session,
  Settings,
  SyncStatus,
  Unsubscribe,
  UpdateStatus,
} from "../../ipc";

export type RecordingState = "recording" | "closing" | "not_recording";

export const EMPTY_SYNC: SyncStatus = {
  pending: 0,
  sent: 0,
  parked: 0,
  rate: 0,
  last_success: null,
  last_error: null,
  last_error_code: null,
  stopped: null,
  closed_remotely: [],
  offline: true,
};

export const DEFAULT_SETTINGS: Settings = {
  api_url: "https://api.runonrufus.com/v0",
  dedup_window_s: 5,
  station: "Finish",
  operator: "",
  time_display: "local",
  theme: "day",
  scale: 1,
  sound: { muted: false, volume: 0.6 },
};

export function recordingState(s: Session | null): RecordingState {
  if (!s) return "not_recording";
  if (s.state === "opening" || s.state === "active") return "recording";
  if (s.state === "closing") return "closing";
  return "not_recording";
}

export type SyncLevel = "ok" | "pending" | "failing" | "stopped" | "offline";

/** How the sync pill should look: offline (no key), stopped, failing, pending, ok. */
export function syncLevel(s: SyncStatus): SyncLevel {
  if (s.offline) return "offline";
  if (s.stopped) return "stopped";
  if (s.last_error) return "failing";
  if (s.pending > 0) return "pending";
  return "ok";
}

export class StatusStore {
  ready = $state(false);
  loadError = $state<string | null>(null);
  device = $state.raw<Device | null>(null);
  session = $state.raw<Session | null>(null);
  sync = $state.raw<SyncStatus>(EMPTY_SYNC);
  readers = $state.raw<ReaderView[]>([]);
  settings = $state.raw<Settings>(DEFAULT_SETTINGS);
  key = $state.raw<KeyStorage>({ kind: "none" });
  participantsLoaded = $state(false);
  version = $state("");
  clock = $state.raw<ClockStatus | null>(null);
  /** Capture's commit state: a set last_error is the red banner, the loudest thing on screen. */
  capture = $state.raw<CaptureStatus>({ last_error: null, queued: 0 });
  /** Stored settings the backend could not use at start (it took the defaults). */
  warnings = $state.raw<string[]>([]);
  /** The updater (Settings screen only); null until loaded, `enabled: false` in a build without one. */
  update = $state.raw<UpdateStatus | null>(null);
  /** Largest backlog seen since the outbox was last empty (progress bar). */
  backlogPeak = $state(0);
  /** Host time minus this page's clock when the last clock event came (ms). */
  clockSkew = 0;
  /** Called after the readers or the sync status were updated (the AppModel's tones). */
  onUpdate: (() => void) | null = null;

  private unsubs: Unsubscribe[] = [];

  get recording(): RecordingState {
    return recordingState(this.session);
  }

  /** No API key: nothing syncs (capture and manual entry still work). */
  get firstRun(): boolean {
    return this.key.kind === "none";
  }

  /** Fraction of the backlog already drained, or null when there is nothing to show. */
  get drainProgress(): number | null {
    if (this.sync.pending === 0 || this.backlogPeak < 2) return null;
    return Math.max(0, Math.min(1, 1 - this.sync.pending / this.backlogPeak));
  }

  async init(host: Host): Promise<AppState> {
    this.unsubs.push(
      await host.onEvent("sync", (s) => this.applySync(s)),
      await host.onEvent("readers", (r) => {
        this.readers = r;
        this.onUpdate?.();
      }),
      await host.onEvent("session", (s) => {
        this.session = s;
      }),
      await host.onEvent("clock", (c) => this.applyClock(c)),
      await host.onEvent("capture", (c) => {
        this.capture = c;
      }),
      await host.onEvent("update", (u) => {
        this.update = u;
      }),
    );
    const st = await this.refresh(host);
    await this.refreshUpdate(host);
    return st;
  }

  /** Reloads the update status (a local call: it never asks the update server). */
  async refreshUpdate(host: Host): Promise<UpdateStatus | null> {
    try {
      this.update = await host.updateStatus();
    } catch {
      // Nothing about updates is shown when the backend cannot say.
      this.update = null;
    }
    return this.update;
  }

  async refresh(host: Host): Promise<AppState> {
    const st = await host.appState();
    this.applyAppState(st);
    return st;
  }

  applyAppState(st: AppState): void {
    this.device = st.device;
    this.session = st.session;
    this.readers = st.readers;
    this.applySync(st.sync); // after the readers: onUpdate sees both
    this.settings = st.settings;
    this.key = st.key;
    this.participantsLoaded = st.participants_loaded;
    this.capture = st.capture;
    this.warnings = st.warnings;
    this.version = st.version;
    this.ready = true;
  }

  applySync(s: SyncStatus): void {
    if (s.pending === 0) this.backlogPeak = 0;
    else if (s.pending > this.backlogPeak) this.backlogPeak = s.pending;
    this.sync = s;
    this.onUpdate?.();
  }

  applyClock(c: ClockStatus, localNow = Date.now()): void {
    this.clock = c;
    const t = Date.parse(c.host_utc);
    if (!Number.isNaN(t)) this.clockSkew = t - localNow;
  }

  dispose(): void {
    for (const u of this.unsubs) u();
    this.unsubs = [];
  }
}
