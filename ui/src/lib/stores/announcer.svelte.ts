// The announcer's model: the latest finishers, newest first, each with their place in the order
// of arrival within their wave (a runner's first passing counts; void passings do not).

import type { FeedEntry } from "../../ipc";

export interface Finisher {
  id: number;
  bib: string;
  name: string | null;
  category: string | null;
  wave: string | null;
  raceTimeMs: number | null;
  timestamp: string;
  /** 1 for the first of their wave to arrive. */
  place: number;
}

/** "1st", "2nd", "3rd", "11th", "22nd". */
export function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : (({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th");
  return `${n}${suffix}`;
}

export class AnnouncerStore {
  /** Newest first. */
  finishers = $state<Finisher[]>([]);

  private placed = new Map<string, Finisher>();
  private perWave = new Map<string, number>();

  constructor(private readonly keep = 12) {}

  /** Forget everything (another session, or the feed must be read again). */
  reset(): void {
    this.placed.clear();
    this.perWave.clear();
    this.finishers = [];
  }

  /** Takes feed entries, oldest first (a page reversed, or a live batch). */
  apply(entries: FeedEntry[]): void {
    const fresh: Finisher[] = [];
    const ordered = [...entries].sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.num_passing - b.num_passing);
    for (const e of ordered) {
      if (e.void || !e.bib || this.placed.has(e.bib)) continue;
      const wave = e.wave ?? "";
      const place = (this.perWave.get(wave) ?? 0) + 1;
      this.perWave.set(wave, place);
      const f: Finisher = {
        id: e.id,
        bib: e.bib,
        name: e.name,
        category: e.category,
        wave: e.wave,
        raceTimeMs: e.race_time_ms,
        timestamp: e.timestamp,
        place,
      };
      this.placed.set(e.bib, f);
      fresh.push(f);
    }
    if (fresh.length === 0) return;
    this.finishers = [...fresh.reverse(), ...this.finishers].slice(0, this.keep);
  }
}
