// The announcer's places: a runner's first passing counts, per wave, in the order of arrival;
// void passings and passings without a bib do not place anyone.
import { describe, expect, it } from "vitest";
import type { FeedEntry } from "../../ipc";
import { AnnouncerStore, ordinal } from "./announcer.svelte";

let next = 1;
function entry(bib: string | null, wave: string, at: string, extra: Partial<FeedEntry> = {}): FeedEntry {
  const id = next++;
  return {
    id,
    session_id: 1,
    num_passing: id,
    bib,
    chip: null,
    name: bib ? `Runner ${bib}` : null,
    category: "F40",
    wave,
    race_time_ms: 1000 * id,
    timestamp: `2026-05-03T10:00:${String(id).padStart(2, "0")}.000Z`,
    source: "reader",
    void: false,
    corrected: false,
    unknown_chip: false,
    sync_state: "pending",
    sync_error: null,
    ...extra,
    ...(at ? { timestamp: at } : {}),
  };
}

describe("announcer", () => {
  it("says places in English", () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111].map(ordinal)).toEqual([
      "1st",
      "2nd",
      "3rd",
      "4th",
      "11th",
      "12th",
      "13th",
      "21st",
      "22nd",
      "101st",
      "111th",
    ]);
  });

  it("places each wave's runners by arrival, once, newest first", () => {
    const a = new AnnouncerStore(5);
    a.apply([entry("1", "10K", ""), entry("50", "5K", ""), entry(null, "", ""), entry("2", "10K", "", { void: true })]);
    a.apply([entry("1", "10K", ""), entry("3", "10K", "")]);
    expect(a.finishers.map((f) => `${f.bib}:${f.place}`)).toEqual(["3:2", "50:1", "1:1"]);
    a.reset();
    expect(a.finishers).toEqual([]);
  });
});
