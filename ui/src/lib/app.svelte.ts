// The app model: one object that holds the host and the stores, wires the live feed (subscribe
// first, then page in what is already recorded, reset when another session becomes current),
// the screen navigation, short notices and the tones (lib/sound.ts). Components get it from
// Svelte context.

import { getContext, setContext } from "svelte";
import { type Host, type Settings, toIpcError } from "../ipc";
import { batchTone, ReaderWatch, Sounds, SyncWatch, warningTones } from "./sound";
import { FeedStore } from "./stores/feed.svelte";
import { ManualEntryController } from "./stores/manual.svelte";
import { RaceStore } from "./stores/race.svelte";
import { StatusStore, syncLevel } from "./stores/status.svelte";

export type Screen = "console" | "devices" | "sessions" | "readers" | "settings";

export const SCREENS: { id: Screen; label: string; key: string }[] = [
  { id: "console", label: "Console", key: "1" },
  { id: "devices", label: "Devices", key: "2" },
  { id: "sessions", label: "Sessions", key: "3" },
  { id: "readers", label: "Readers", key: "4" },
  { id: "settings", label: "Settings", key: "5" },
];

export interface Notice {
  id: number;
  kind: "info" | "ok" | "error";
  text: string;
}

const PAGE = 1000;

export class AppModel {
  screen = $state<Screen>("console");
  notices = $state<Notice[]>([]);
  /** Wall clock for elapsed times and "ago" labels, ticking each second. */
  now = $state(Date.now());
  /** Set when a screen asks another to focus a field (e.g. the first-run banner → bind). */
  focusRequest = $state<string | null>(null);

  readonly status = new StatusStore();
  readonly feed = new FeedStore();
  readonly manual: ManualEntryController;
  readonly race: RaceStore;
  /** Tones for passings and alerts, by the stored sound settings (muted, volume). */
  readonly sounds = new Sounds({ settings: () => this.status.settings.sound });

  private nextNotice = 1;
  private loadingPage = false;
  private stopFeed: (() => void) | null = null;
  private stopSounds: (() => void) | null = null;

  constructor(readonly host: Host) {
    this.manual = new ManualEntryController(host);
    this.race = new RaceStore(host);
  }

  async start(): Promise<void> {
    try {
      this.stopFeed = await this.host.subscribeFeed((b) => {
        const fresh = this.feed.applyBatch(b);
        this.sounds.request(batchTone(fresh, (e) => this.feed.isRepeatedBib(e)));
        if (b.reread) void this.reread();
        else if (b.entries.length > 0) this.race.refreshSoon();
      });
      const st = await this.status.init(this.host);
      this.watchSounds();
      this.manual.setQueued(st.queued);
      if (st.session) {
        this.feed.reset(st.session.id);
        await this.loadOlder();
      }
      await this.race.load();
    } catch (e) {
      this.status.loadError = toIpcError(e).message;
    }
  }

  /** Called when the current session changes: show that session's feed. */
  async followSession(sessionId: number | null): Promise<void> {
    if (sessionId === null || sessionId === this.feed.sessionId) return;
    if (this.feed.sessionId !== null) this.manual.reset();
    this.feed.reset(sessionId);
    await this.loadOlder();
    await this.race.load();
  }

  /** A start moved (or the feed fell behind): race times shown are stale, read both again. */
  async reread(): Promise<void> {
    const sid = this.feed.sessionId;
    await this.race.load();
    if (sid === null) return;
    this.feed.reset(sid);
    await this.loadOlder();
  }

  /** Load the next older page of the current session's feed. */
  async loadOlder(): Promise<void> {
    if (this.loadingPage || !this.feed.hasMore) return;
    this.loadingPage = true;
    try {
      const sid = this.feed.sessionId;
      const page = await this.host.feedPage(this.feed.oldestNum(), PAGE);
      if (sid === this.feed.sessionId) this.feed.applyPage(page, PAGE);
    } catch (e) {
      this.notify(`Could not load older passings: ${toIpcError(e).message}`, "error");
    } finally {
      this.loadingPage = false;
    }
  }

  /**
   * The tones besides the feed's (one per batch, above): a reader turning quiet or lost and sync
   * turning failing or stopped (the status store's updates; what it holds now is the baseline),
   * a manual entry's warnings. In a browser: unlock audio on gestures, window.__tones.
   */
  private watchSounds(): void {
    if (this.stopSounds) return;
    const readers = new ReaderWatch();
    const sync = new SyncWatch();
    const onStatus = () => {
      for (const k of readers.update(this.status.readers)) this.sounds.request(k);
      this.sounds.request(sync.update(syncLevel(this.status.sync)));
    };
    onStatus();
    this.status.onUpdate = onStatus;
    this.manual.onWarnings = (w) => {
      for (const k of warningTones(w)) this.sounds.request(k);
    };
    const detach = typeof window !== "undefined" ? this.sounds.attach(window) : () => {};
    this.stopSounds = () => {
      this.status.onUpdate = null;
      this.manual.onWarnings = null;
      detach();
      this.sounds.dispose();
    };
  }

  /** Alt+M: sound on/off, saved with the settings (effective at once; put back if the save fails). */
  async toggleMute(): Promise<void> {
    if (!this.status.ready) return; // the stored settings are not known yet: saving would overwrite them
    const prev = this.status.settings;
    const next: Settings = { ...prev, sound: { ...prev.sound, muted: !prev.sound.muted } };
    this.status.settings = next;
    try {
      this.status.settings = await this.host.settingsSet(next);
      this.notify(next.sound.muted ? "Sound off (Alt+M turns it on)" : "Sound on", "info", 3000);
    } catch (e) {
      this.status.settings = prev;
      this.notify(`Could not save the sound setting: ${toIpcError(e).message}`, "error");
    }
  }

  go(screen: Screen, focus: string | null = null): void {
    this.screen = screen;
    this.focusRequest = focus;
  }

  notify(text: string, kind: Notice["kind"] = "info", ms = 6000): void {
    const id = this.nextNotice++;
    this.notices = [...this.notices, { id, kind, text }].slice(-4);
    setTimeout(() => this.dismiss(id), ms);
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
  }

  /** Run a host call, turning a rejection into a notice; returns undefined on failure. */
  async attempt<T>(fn: () => Promise<T>, okText?: string): Promise<T | undefined> {
    try {
      const r = await fn();
      if (okText) this.notify(okText, "ok");
      return r;
    } catch (e) {
      const err = toIpcError(e);
      this.notify(err.message, "error");
      return undefined;
    }
  }

  dispose(): void {
    this.stopFeed?.();
    this.stopSounds?.();
    this.stopSounds = null;
    this.race.dispose();
    this.status.dispose();
  }
}

const KEY = Symbol("app");

export function provideApp(app: AppModel): void {
  setContext(KEY, app);
}

export function useApp(): AppModel {
  return getContext<AppModel>(KEY);
}

/** The context a screen rendered on its own (tests) needs to find the app. */
export function appContext(app: AppModel): Map<unknown, unknown> {
  return new Map([[KEY, app]]);
}
