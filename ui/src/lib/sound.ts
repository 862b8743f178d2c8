// Tones generated in the web view with the Web Audio API (no audio files, no network): a short
// blip for a recorded passing and distinct alerts for an unknown bib or chip, a repeated bib, a
// reader going quiet or lost, and sync failing or stopped.
//
// Rules (so a finish of 200 reads/s never becomes noise):
//   - one tone per feed batch at most (the batch's most important one, `batchTone`);
//   - tones are at least MIN_GAP_MS apart (≤ 8 per second in total; a longer tone keeps the
//     next one waiting until it has finished); what comes in between waits in a small pending set
//     (one per kind, so it cannot pile up) and the most important one plays when the gap ends;
//   - alerts take precedence over the plain passing tone: an alert that plays drops a waiting
//     passing tone, a passing tone is dropped while an alert waits and for ALERT_SHADOW_MS after
//     one played, and the same alert twice within SAME_ALERT_MS plays once (the feed and the
//     manual entry's warning both report the same repeated bib);
//   - nothing plays (and nothing is recorded) when muted or at volume 0; the volume scales the gain.
// The AudioContext is created on the first user gesture (pointer or key) and resumed on later
// ones when the browser suspended it; tones before that, and wherever Web Audio does not exist
// (Vitest), are silent but still recorded. Every tone is recorded as {kind, at} in `tones`,
// exposed as window.__tones for WebDriver/Playwright tests.

import type { FeedEntry, ReaderView, SoundSettings } from "../ipc";
import type { SyncLevel } from "./stores/status.svelte";

export type ToneKind = "passing" | "unknown" | "repeated" | "quiet" | "lost" | "sync";

/** Most important first: this is also the order in which waiting tones play. */
export const TONE_PRIORITY: Record<ToneKind, number> = {
  lost: 5,
  sync: 4,
  unknown: 3,
  repeated: 2,
  quiet: 1,
  passing: 0,
};

export const TONE_LABELS: Record<ToneKind, string> = {
  passing: "Passing recorded",
  unknown: "Unknown bib or chip",
  repeated: "Repeated bib",
  quiet: "Reader quiet",
  lost: "Reader lost",
  sync: "Sync failing",
};

/** Minimum time between the starts of two tones (≤ 8 tones per second). */
export const MIN_GAP_MS = 125;
/** A passing tone is dropped for this long after an alert played. */
export const ALERT_SHADOW_MS = 300;
/** The same alert kind requested again within this time plays once. */
export const SAME_ALERT_MS = 400;
/** How many recorded tones window.__tones keeps (the newest). */
export const TONE_LOG_MAX = 2000;

interface Note {
  /** Hz */
  f: number;
  /** ms from the tone's start */
  at: number;
  /** ms */
  dur: number;
  type: OscillatorType;
  /** relative loudness 0–1 */
  level: number;
}

/** The notes of each tone: short, distinct in pitch, rhythm and timbre. */
export const TONES: Record<ToneKind, Note[]> = {
  // one short high blip
  passing: [{ f: 1320, at: 0, dur: 45, type: "sine", level: 0.6 }],
  // falling pair: "uh-oh"
  unknown: [
    { f: 880, at: 0, dur: 110, type: "triangle", level: 1 },
    { f: 587, at: 130, dur: 160, type: "triangle", level: 1 },
  ],
  // two quick equal beeps
  repeated: [
    { f: 1046, at: 0, dur: 70, type: "square", level: 0.45 },
    { f: 1046, at: 120, dur: 70, type: "square", level: 0.45 },
  ],
  // one low long tone
  quiet: [{ f: 392, at: 0, dur: 320, type: "triangle", level: 0.9 }],
  // three falling tones
  lost: [
    { f: 740, at: 0, dur: 120, type: "sawtooth", level: 0.45 },
    { f: 554, at: 140, dur: 120, type: "sawtooth", level: 0.45 },
    { f: 415, at: 280, dur: 200, type: "sawtooth", level: 0.45 },
  ],
  // a rising warble
  sync: [
    { f: 523, at: 0, dur: 90, type: "square", level: 0.4 },
    { f: 784, at: 110, dur: 90, type: "square", level: 0.4 },
    { f: 523, at: 220, dur: 90, type: "square", level: 0.4 },
    { f: 784, at: 330, dur: 90, type: "square", level: 0.4 },
  ],
};

/** Peak gain of a note at volume 1 and level 1. */
export const BASE_GAIN = 0.3;

export function toneDuration(kind: ToneKind): number {
  return Math.max(...TONES[kind].map((n) => n.at + n.dur));
}

export interface ToneRecord {
  kind: ToneKind;
  /** Date.now() when it played */
  at: number;
}

// The parts of the Web Audio API used here (a fake stands in for it in tests).
export interface AudioParamLike {
  setValueAtTime(v: number, t: number): unknown;
  linearRampToValueAtTime(v: number, t: number): unknown;
  exponentialRampToValueAtTime(v: number, t: number): unknown;
}
export interface AudioNodeLike {
  connect(n: AudioNodeLike): unknown;
}
export interface OscillatorLike extends AudioNodeLike {
  type: OscillatorType;
  frequency: AudioParamLike;
  start(t: number): void;
  stop(t: number): void;
}
export interface GainLike extends AudioNodeLike {
  gain: AudioParamLike;
}
export interface AudioContextLike {
  readonly state: string;
  readonly currentTime: number;
  readonly destination: AudioNodeLike;
  resume(): Promise<void>;
  createOscillator(): OscillatorLike;
  createGain(): GainLike;
}

declare global {
  interface Window {
    /** Every tone played (or that would have played), newest last: a test hook. */
    __tones?: ToneRecord[];
    webkitAudioContext?: new () => AudioContext;
  }
}

function browserContext(): AudioContextLike | null {
  if (typeof window === "undefined") return null;
  const Ctor = window.AudioContext ?? window.webkitAudioContext;
  if (!Ctor) return null;
  try {
    return new Ctor() as unknown as AudioContextLike;
  } catch {
    return null;
  }
}

export interface SoundsOptions {
  /** The stored sound settings, read at each tone. */
  settings: () => SoundSettings | undefined;
  /** Makes the AudioContext (default: the browser's, or null where there is none). */
  createContext?: () => AudioContextLike | null;
  now?: () => number;
}

export class Sounds {
  /** Every tone played (or that would have played without audio), newest last. */
  readonly tones: ToneRecord[] = [];

  private ctx: AudioContextLike | null = null;
  private triedContext = false;
  private readonly pending = new Set<ToneKind>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** When the next tone may start. */
  private nextFree = Number.NEGATIVE_INFINITY;
  private lastAlertAt = Number.NEGATIVE_INFINITY;
  private readonly lastOf = new Map<ToneKind, number>();
  private readonly getSettings: () => SoundSettings | undefined;
  private readonly createContext: () => AudioContextLike | null;
  private readonly now: () => number;
  private readonly demoTimers: ReturnType<typeof setTimeout>[] = [];

  constructor(opts: SoundsOptions) {
    this.getSettings = opts.settings;
    this.createContext = opts.createContext ?? browserContext;
    this.now = opts.now ?? (() => Date.now());
  }

  /** Sound is on: not muted and a volume above 0. */
  get enabled(): boolean {
    const s = this.getSettings();
    return !!s && !s.muted && s.volume > 0;
  }

  /** Ask for a tone; it plays now, later (after the gap) or not at all (see the rules above). */
  request(kind: ToneKind | null): void {
    if (kind === null) return;
    if (!this.enabled) {
      this.clearPending();
      return;
    }
    const t = this.now();
    if (kind === "passing") {
      if (this.hasPendingAlert() || t - this.lastAlertAt < ALERT_SHADOW_MS) return;
    } else {
      if (t - (this.lastOf.get(kind) ?? Number.NEGATIVE_INFINITY) < SAME_ALERT_MS) return;
      this.pending.delete("passing");
    }
    this.pending.add(kind);
    this.flush();
  }

  /** Play each tone once, half a second apart, at this volume (the Settings "Test" button). */
  demo(settings: SoundSettings, kinds: ToneKind[] = Object.keys(TONES) as ToneKind[]): void {
    for (const id of this.demoTimers.splice(0)) clearTimeout(id);
    if (settings.muted || !(settings.volume > 0)) return;
    this.unlock();
    kinds.forEach((kind, i) => {
      this.demoTimers.push(setTimeout(() => this.emit(kind, settings.volume), i * 550));
    });
  }

  /** A user gesture: create the AudioContext the first time, resume it when the browser suspended it. */
  unlock(): void {
    if (!this.ctx && !this.triedContext) {
      this.triedContext = true;
      this.ctx = this.createContext();
    }
    if (this.ctx && this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
  }

  /**
   * Browser wiring: unlock on the first (and any later) gesture and expose `tones` as
   * window.__tones. Returns the function that removes the listeners.
   */
  attach(target: Window): () => void {
    target.__tones = this.tones;
    const onGesture = () => this.unlock();
    const opts = { capture: true, passive: true } as const;
    target.addEventListener("pointerdown", onGesture, opts);
    target.addEventListener("keydown", onGesture, opts);
    return () => {
      target.removeEventListener("pointerdown", onGesture, opts);
      target.removeEventListener("keydown", onGesture, opts);
    };
  }

  dispose(): void {
    this.clearPending();
    for (const id of this.demoTimers.splice(0)) clearTimeout(id);
  }

  // --- internals ----------------------------------------------------------------------

  private hasPendingAlert(): boolean {
    for (const k of this.pending) if (k !== "passing") return true;
    return false;
  }

  private clearPending(): void {
    this.pending.clear();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Play the most important waiting tone if the gap is over, else wait for it. */
  private flush(): void {
    if (this.timer !== null || this.pending.size === 0) return;
    const t = this.now();
    if (t < this.nextFree) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.nextFree - t);
      return;
    }
    if (!this.enabled) {
      this.pending.clear();
      return;
    }
    let best: ToneKind | null = null;
    for (const k of this.pending) if (best === null || TONE_PRIORITY[k] > TONE_PRIORITY[best]) best = k;
    if (best === null) return;
    this.pending.delete(best);
    if (best !== "passing") {
      this.pending.delete("passing");
      this.lastAlertAt = t;
    }
    this.lastOf.set(best, t);
    this.nextFree = t + Math.max(MIN_GAP_MS, toneDuration(best) + 40);
    this.emit(best, this.getSettings()?.volume ?? 0);
    this.flush();
  }

  /** Record the tone and, when audio runs, play its notes. */
  private emit(kind: ToneKind, volume: number): void {
    this.tones.push({ kind, at: this.now() });
    if (this.tones.length > TONE_LOG_MAX) this.tones.splice(0, this.tones.length - TONE_LOG_MAX / 2);
    const ctx = this.ctx;
    if (ctx?.state !== "running") return;
    try {
      const t0 = ctx.currentTime + 0.005;
      for (const n of TONES[kind]) {
        const start = t0 + n.at / 1000;
        const end = start + n.dur / 1000;
        const peak = Math.max(0.0002, BASE_GAIN * n.level * Math.min(1, volume));
        const osc = ctx.createOscillator();
        osc.type = n.type;
        osc.frequency.setValueAtTime(n.f, start);
        const g = ctx.createGain();
        g.gain.setValueAtTime(0.0001, start);
        g.gain.linearRampToValueAtTime(peak, start + 0.005);
        g.gain.exponentialRampToValueAtTime(0.0001, end);
        osc.connect(g);
        g.connect(ctx.destination);
        osc.start(start);
        osc.stop(end + 0.02);
      }
    } catch {
      // A broken audio device never breaks the console.
    }
  }
}

/**
 * The one tone a feed batch asks for, from the entries new to the feed (a changed entry, e.g. a
 * sync state or a correction, makes no sound): unknown chip > repeated bib > passing.
 */
export function batchTone(fresh: FeedEntry[], isRepeated: (e: FeedEntry) => boolean): ToneKind | null {
  let best: ToneKind | null = null;
  for (const e of fresh) {
    if (e.void) continue;
    const k: ToneKind = e.unknown_chip ? "unknown" : isRepeated(e) ? "repeated" : "passing";
    if (best === null || TONE_PRIORITY[k] > TONE_PRIORITY[best]) best = k;
    if (best === "unknown") break;
  }
  return best;
}

/** The tones for a manual entry's warnings (unknown bib, repeated bib). */
export function warningTones(warnings: readonly { kind: string }[]): ToneKind[] {
  const out: ToneKind[] = [];
  if (warnings.some((w) => w.kind === "unknown_bib")) out.push("unknown");
  if (warnings.some((w) => w.kind === "repeated_bib")) out.push("repeated");
  return out;
}

/**
 * Follows reader states: a reader turning quiet or lost asks for that tone. The first list seen
 * (what app_state says at start) is the baseline and makes no sound; a reader added later
 * counts as coming from "connecting".
 */
export class ReaderWatch {
  private last: Map<string, string> | null = null;

  update(readers: readonly ReaderView[]): ToneKind[] {
    const out = new Set<ToneKind>();
    const next = new Map<string, string>();
    for (const r of readers) {
      next.set(r.name, r.state);
      if (this.last === null) continue;
      const prev = this.last.get(r.name) ?? "connecting";
      if (prev === r.state) continue;
      if (r.state === "lost") out.add("lost");
      else if (r.state === "quiet") out.add("quiet");
    }
    this.last = next;
    return [...out];
  }
}

/** Follows the sync level: turning failing or stopped asks for the sync tone (the first level is the baseline). */
export class SyncWatch {
  private last: SyncLevel | null = null;

  update(level: SyncLevel): ToneKind | null {
    const prev = this.last;
    this.last = level;
    if (prev === null || prev === level) return null;
    return level === "failing" || level === "stopped" ? "sync" : null;
  }
}
