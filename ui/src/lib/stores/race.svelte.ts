// The race store: the open session's waves and starts (race_state), starting one (the time is
// the moment Start was pressed, taken before the confirmation), the running race clock, who a
// typed bib is, and the counts with the "not yet seen" list. Starts stay on this console: RUFUS
// has no endpoint for them.

import type { Host, RaceView, RunnerPreview, RunnerView, StartInput, WaveView } from "../../ipc";
import { parseUtc } from "../format";

/** A start the operator pressed and has not confirmed yet. */
export interface PendingStart {
  wave: WaveView;
  how: StartInput;
  /** What the confirmation says. */
  message: string;
}

/** Race time H:MM:SS (tenths when asked) from milliseconds; negative before the start. */
export function formatRaceTime(ms: number | null | undefined, tenths = false): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "";
  const sign = ms < 0 ? "−" : "";
  const a = Math.abs(ms);
  const s = Math.floor(a / 1000);
  const body = `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  return tenths ? `${sign}${body}.${Math.floor((a % 1000) / 100)}` : `${sign}${body}`;
}

/** "123 — Ana García · F40 · 10K". */
export function previewText(p: RunnerPreview): string {
  const parts = [p.name, p.category, p.wave].filter((x): x is string => !!x);
  return parts.length ? `${p.bib} — ${parts.join(" · ")}` : p.bib;
}

export const STATUS_WORDS: Record<RunnerPreview["status"], string> = {
  known: "on course",
  unknown: "not in the list",
  finished: "already finished",
  not_started: "wave not started",
  no_list: "no participant list",
};

export class RaceStore {
  view = $state<RaceView | null>(null);
  pending = $state<PendingStart | null>(null);
  preview = $state<RunnerPreview | null>(null);
  notSeen = $state<RunnerView[]>([]);
  search = $state("");
  error = $state<string | null>(null);

  private previewSeq = 0;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;

  /** New passings arrived: refresh counts and the list soon, at most every 2 s. */
  refreshSoon(): void {
    if (this.refreshTimer !== null) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      void this.load();
    }, 2000);
  }

  dispose(): void {
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
  }

  constructor(private readonly host: Host) {}

  /** The first wave that has not started (what the Start key starts). */
  get nextWave(): WaveView | null {
    return this.view?.waves.find((w) => w.start_at === null) ?? null;
  }

  /** Started waves, earliest start first. */
  get started(): WaveView[] {
    return (this.view?.waves ?? [])
      .filter((w) => w.start_at !== null)
      .sort((a, b) => parseUtc(a.start_at ?? "") - parseUtc(b.start_at ?? ""));
  }

  /** The race clock of a wave at `now` (ms since its start), or null before it started. */
  clock(wave: WaveView, now: number): number | null {
    return wave.start_at ? now - parseUtc(wave.start_at) : null;
  }

  async load(): Promise<void> {
    try {
      this.view = await this.host.raceState();
      this.error = null;
      await this.loadNotSeen();
    } catch (e) {
      this.error = (e as { message?: string }).message ?? String(e);
    }
  }

  async loadNotSeen(): Promise<void> {
    if (!this.view?.session_id) {
      this.notSeen = [];
      return;
    }
    try {
      this.notSeen = await this.host.runnersNotSeen(this.search, 200);
    } catch {
      this.notSeen = [];
    }
  }

  /** Start pressed: remember the press time, ask to confirm. */
  askStart(wave: WaveView, pressedAt = Date.now()): void {
    const restart = wave.start_at !== null;
    this.pending = {
      wave,
      how: restart ? { kind: "restart", pressed_at: pressedAt } : { kind: "now", pressed_at: pressedAt },
      message: restart
        ? `Restart ${wave.label} at the moment you pressed (a false start)? The first start stays in the log.`
        : `Start ${wave.label} at the moment you pressed? Race times count from then.`,
    };
  }

  async confirm(): Promise<boolean> {
    const p = this.pending;
    this.pending = null;
    if (!p) return false;
    return this.apply(p.wave.wave, p.how);
  }

  cancel(): void {
    this.pending = null;
  }

  async nudge(wave: WaveView, seconds: number): Promise<boolean> {
    return this.apply(wave.wave, { kind: "nudge", seconds });
  }

  async setExact(wave: WaveView, atIso: string): Promise<boolean> {
    return this.apply(wave.wave, { kind: "exact", at: atIso });
  }

  private async apply(wave: string, how: StartInput): Promise<boolean> {
    try {
      this.view = await this.host.raceStart(wave, how);
      this.error = null;
      return true;
    } catch (e) {
      this.error = (e as { message?: string }).message ?? String(e);
      return false;
    }
  }

  /** Previews the last bib typed (`12, 34` → 34); the newest answer wins. */
  async previewTyped(typed: string): Promise<void> {
    const bib =
      typed
        .split(/[\s,;]+/)
        .filter(Boolean)
        .pop() ?? "";
    const seq = ++this.previewSeq;
    if (!bib) {
      this.preview = null;
      return;
    }
    try {
      const p = await this.host.runnerPreview(bib);
      if (seq === this.previewSeq) this.preview = p;
    } catch {
      if (seq === this.previewSeq) this.preview = null;
    }
  }
}
