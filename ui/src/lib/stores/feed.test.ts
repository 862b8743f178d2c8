// Feed store tests: one update per batch, replace-by-id, newest-first ordering, paging,
// filter and bib search (incl. membership changes when an entry is replaced), bounded work.
import { describe, expect, it } from "vitest";
import type { FeedBatch, FeedEntry } from "../../ipc";
import { FeedStore, matches } from "./feed.svelte";

let nextId = 1;
function entry(over: Partial<FeedEntry> = {}): FeedEntry {
  const id = over.id ?? nextId++;
  return {
    id,
    session_id: 1,
    num_passing: id,
    bib: String(100 + id),
    chip: `E2801170${String(id).padStart(8, "0")}`,
    name: `Runner ${id}`,
    category: null,
    wave: null,
    race_time_ms: null,
    timestamp: new Date(Date.UTC(2026, 4, 10, 9, 0, 0) + id * 1000).toISOString(),
    source: "reader",
    void: false,
    corrected: false,
    unknown_chip: false,
    sync_state: "pending",
    sync_error: null,
    ...over,
  };
}
function batch(entries: FeedEntry[], raw = entries.length, dup = 0): FeedBatch {
  return { entries, raw_reads: raw, duplicates: dup, reread: false };
}
function rows(f: FeedStore): number[] {
  const out: number[] = [];
  for (let i = 0; i < f.count; i++) out.push(f.rowAt(i)?.num_passing ?? -1);
  return out;
}

describe("FeedStore batching", () => {
  it("applies a batch in one update, newest first", () => {
    const f = new FeedStore();
    const v0 = f.version;
    f.applyBatch(batch([entry({ id: 1 }), entry({ id: 2 }), entry({ id: 3 })], 5, 2));
    expect(f.version).toBe(v0 + 1);
    expect(rows(f)).toEqual([3, 2, 1]);
    expect(f.total).toBe(3);
    expect(f.rawReads).toBe(5);
    expect(f.duplicates).toBe(2);
    expect(f.lastAdded).toBe(3);
  });

  it("returns the passings a batch newly recorded (not replacements, not older passings)", () => {
    const f = new FeedStore();
    expect(f.applyBatch(batch([entry({ id: 11 }), entry({ id: 12 })])).map((e) => e.id)).toEqual([11, 12]);
    f.applyPage([entry({ id: 5 }), entry({ id: 6 })], 1000);
    // a sync state change of 12, and of 3 (older than anything loaded): nothing newly recorded
    expect(f.applyBatch(batch([entry({ id: 12, sync_state: "sent" }), entry({ id: 3, sync_state: "sent" })]))).toEqual([]);
    expect(f.applyBatch(batch([entry({ id: 12, sync_state: "sent" }), entry({ id: 13 })])).map((e) => e.id)).toEqual([13]);
    f.reset(1);
    expect(f.applyBatch(batch([entry({ id: 14 })])).map((e) => e.id)).toEqual([14]);
  });

  it("keeps rows that arrive while the person looks further down above the list, in the same update", () => {
    const f = new FeedStore();
    f.applyBatch(batch([entry({ id: 1 }), entry({ id: 2 })]));
    f.follow(false);
    f.applyBatch(batch([entry({ id: 3 }), entry({ id: 4 })]));
    expect(f.hiddenAbove).toBe(2);
    expect(f.count).toBe(4);
    f.applyBatch(batch([entry({ id: 2, sync_state: "sent" })])); // a replacement adds nothing
    expect(f.hiddenAbove).toBe(2);
    f.follow(true); // back at the top: the newest show
    expect(f.hiddenAbove).toBe(0);
    f.applyBatch(batch([entry({ id: 5 })]));
    expect(f.hiddenAbove).toBe(0);
    f.follow(false);
    f.applyBatch(batch([entry({ id: 6 })]));
    f.setFilter("manual"); // a new view starts at its top
    expect(f.hiddenAbove).toBe(0);
    f.setFilter("all");
    f.applyBatch(batch([entry({ id: 7 })]));
    f.showNewest();
    expect(f.hiddenAbove).toBe(0);
  });

  it("replaces a changed entry by id, in place, without adding a row", () => {
    const f = new FeedStore();
    f.applyBatch(batch([entry({ id: 1 }), entry({ id: 2 }), entry({ id: 3 })]));
    f.applyBatch(batch([entry({ id: 2, bib: "999", corrected: true, sync_state: "sent" }), entry({ id: 4 })]));
    expect(rows(f)).toEqual([4, 3, 2, 1]);
    expect(f.total).toBe(4);
    expect(f.lastAdded).toBe(1);
    const e2 = f.rowAt(2);
    expect(e2?.bib).toBe("999");
    expect(e2?.corrected).toBe(true);
    expect(e2?.sync_state).toBe("sent");
  });

  it("keeps arrival order when the same id changes several times in one batch", () => {
    const f = new FeedStore();
    f.applyBatch(batch([entry({ id: 1, bib: "1" }), entry({ id: 1, bib: "2" }), entry({ id: 1, bib: "3" })]));
    expect(f.total).toBe(1);
    expect(f.rowAt(0)?.bib).toBe("3");
  });

  it("pages older entries in below the live ones and skips ones it has", () => {
    const f = new FeedStore();
    f.reset(1);
    f.applyBatch(batch([entry({ id: 11, num_passing: 11 }), entry({ id: 12, num_passing: 12 })]));
    // a page arrives oldest-first or newest-first: both work
    const page = [10, 9, 8, 11].map((n) => entry({ id: n, num_passing: n }));
    f.applyPage(page, 4);
    expect(rows(f)).toEqual([12, 11, 10, 9, 8]);
    expect(f.oldestNum()).toBe(8);
    expect(f.hasMore).toBe(true);
    f.applyPage([entry({ id: 7, num_passing: 7 })], 4);
    expect(f.hasMore).toBe(false);
    expect(rows(f)).toEqual([12, 11, 10, 9, 8, 7]);
  });

  it("ignores nothing and counts repeated bibs and waiting stamps", () => {
    const f = new FeedStore();
    f.applyBatch(
      batch([
        entry({ id: 1, bib: "42" }),
        entry({ id: 2, bib: "42" }),
        entry({ id: 3, bib: null, source: "manual", chip: null }),
        entry({ id: 4, bib: null, source: "manual", chip: null }),
      ]),
    );
    expect(f.isRepeatedBib(f.get(1) as FeedEntry)).toBe(true);
    expect(f.waitingStamps().map((e) => e.id)).toEqual([3, 4]);
    // void one of the 42s: no longer repeated; assign a bib to stamp 3: no longer waiting
    f.applyBatch(batch([entry({ id: 2, bib: "42", void: true }), entry({ id: 3, bib: "7", source: "manual", chip: null })]));
    expect(f.isRepeatedBib(f.get(1) as FeedEntry)).toBe(false);
    expect(f.waitingStamps().map((e) => e.id)).toEqual([4]);
  });

  it("handles 100,000 rows with bounded work per batch", () => {
    const f = new FeedStore();
    const big: FeedEntry[] = [];
    for (let i = 1; i <= 100_000; i++) big.push(entry({ id: 1_000_000 + i, num_passing: i }));
    f.applyBatch(batch(big));
    expect(f.total).toBe(100_000);
    f.setFilter("unsynced");
    const t0 = performance.now();
    for (let b = 0; b < 200; b++) {
      const changed = [];
      for (let k = 0; k < 10; k++)
        changed.push(entry({ id: 1_000_000 + b * 10 + k + 1, num_passing: b * 10 + k + 1, sync_state: "sent" }));
      changed.push(entry({ id: 2_000_000 + b, num_passing: 100_001 + b }));
      f.applyBatch(batch(changed));
    }
    const ms = performance.now() - t0;
    expect(f.total).toBe(100_200);
    expect(f.count).toBe(100_000 - 2000 + 200);
    expect(ms).toBeLessThan(2000);
  });
});

describe("FeedStore filter and search", () => {
  function sample(): FeedStore {
    const f = new FeedStore();
    f.applyBatch(
      batch([
        entry({ id: 1, bib: "12", name: "Ana García" }),
        entry({ id: 2, bib: "120", source: "manual", chip: null, name: "Bruno Ruiz" }),
        entry({ id: 3, bib: "7", void: true }),
        entry({ id: 4, bib: null, unknown_chip: true, chip: "E280DEADBEEF", name: null }),
        entry({ id: 5, bib: "55", sync_state: "sent" }),
        entry({ id: 6, bib: "56", sync_state: "parked", sync_error: "400" }),
      ]),
    );
    return f;
  }

  it("filters by source, problems and not-sent", () => {
    const f = sample();
    f.setFilter("manual");
    expect(rows(f)).toEqual([2]);
    f.setFilter("reader");
    expect(rows(f)).toEqual([6, 5, 4, 3, 1]);
    f.setFilter("problems");
    expect(rows(f)).toEqual([6, 4, 3]);
    f.setFilter("unsynced");
    expect(rows(f)).toEqual([6, 4, 3, 2, 1]);
    f.setFilter("all");
    expect(f.count).toBe(6);
  });

  it("searches bibs by prefix, names and chips by substring, #num exactly", () => {
    const f = sample();
    f.setQuery("12");
    expect(rows(f)).toEqual([2, 1]);
    f.setQuery("ruiz");
    expect(rows(f)).toEqual([2]);
    f.setQuery("deadbeef");
    expect(rows(f)).toEqual([4]);
    f.setQuery("#5");
    expect(rows(f)).toEqual([5]);
    f.setQuery("");
    expect(f.count).toBe(6);
  });

  it("keeps the filtered view right when replaced entries enter or leave it", () => {
    const f = sample();
    f.setFilter("unsynced");
    expect(rows(f)).toEqual([6, 4, 3, 2, 1]);
    f.applyBatch(batch([entry({ id: 2, bib: "120", source: "manual", chip: null, sync_state: "sent" })]));
    expect(rows(f)).toEqual([6, 4, 3, 1]);
    f.applyBatch(batch([entry({ id: 5, bib: "55", sync_state: "pending" })]));
    expect(rows(f)).toEqual([6, 5, 4, 3, 1]);
    f.applyBatch(batch([entry({ id: 7, sync_state: "sent" }), entry({ id: 8 })]));
    expect(rows(f)).toEqual([8, 6, 5, 4, 3, 1]);
    expect(f.lastAdded).toBe(1);
    expect(f.total).toBe(8);
  });

  it("matches() is the same predicate the view uses", () => {
    const e = entry({ bib: "300", name: "Zoe Sanz" });
    expect(matches(e, "all", "30")).toBe(true);
    expect(matches(e, "all", "31")).toBe(false);
    expect(matches(e, "manual", "")).toBe(false);
    expect(matches(e, "all", "SANZ")).toBe(true);
  });

  it("moves the selection with the keyboard and finds rows by id", () => {
    const f = sample();
    f.moveSelection(1);
    expect(f.selectedId).toBe(6);
    f.moveSelection(2);
    expect(f.selectedId).toBe(4);
    expect(f.indexOf(4)).toBe(2);
    f.moveSelection(-10);
    expect(f.selectedId).toBe(6);
    expect(f.selected?.bib).toBe("56");
  });
});
