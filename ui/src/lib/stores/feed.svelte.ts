// The live feed store. Batches from the host (on each change, at most one per display frame;
// newest last) are applied in one update: entries are keyed by passing id, so a changed entry
// replaces the old one in place; new entries go on top (the view is newest first). The rows live in plain arrays and
// maps (100,000 rows must stay cheap) and one reactive `version` counter tells the UI to
// redraw. Work per batch is proportional to the batch, not to the feed, unless the filter or
// search changes (one rebuild).

import type { FeedBatch, FeedEntry } from "../../ipc";

export type FeedFilter = "all" | "reader" | "manual" | "problems" | "unsynced";

export const FEED_FILTERS: { id: FeedFilter; label: string }[] = [
  { id: "all", label: "All" },
  { id: "reader", label: "Reader" },
  { id: "manual", label: "Manual" },
  { id: "problems", label: "Problems" },
  { id: "unsynced", label: "Not sent" },
];

/** Whether an entry passes a filter and a search text. */
export function matches(e: FeedEntry, filter: FeedFilter, query: string): boolean {
  switch (filter) {
    case "reader":
      if (e.source !== "reader") return false;
      break;
    case "manual":
      if (e.source === "reader") return false;
      break;
    case "problems":
      if (!(e.void || e.unknown_chip || e.bib === null || e.corrected || e.sync_state === "parked")) return false;
      break;
    case "unsynced":
      if (e.sync_state !== "pending" && e.sync_state !== "parked") return false;
      break;
    default:
      break;
  }
  const q = query.trim();
  if (!q) return true;
  if (/^\d+$/.test(q)) return e.bib?.startsWith(q) ?? false;
  if (/^#\d+$/.test(q)) return e.num_passing === Number(q.slice(1));
  const lq = q.toLowerCase();
  return (
    (e.bib?.toLowerCase().startsWith(lq) ?? false) ||
    (e.name?.toLowerCase().includes(lq) ?? false) ||
    (e.chip?.toLowerCase().includes(lq) ?? false)
  );
}

export class FeedStore {
  /** Bumped once per applied batch, page or filter change: the UI's redraw signal. */
  version = $state(0);
  /** Rows in the current view (after filter and search). */
  count = $state(0);
  /** Rows in the feed. */
  total = $state(0);
  filter = $state<FeedFilter>("all");
  query = $state("");
  /** Raw reads and duplicate reads counted from batches since the feed was (re)started. */
  rawReads = $state(0);
  duplicates = $state(0);
  /** Selected row (passing id). */
  selectedId = $state<number | null>(null);
  /** Whether older pages may still be loaded with feed_page. */
  hasMore = $state(true);
  /** Session the feed shows (null before the first entry or page). */
  sessionId = $state<number | null>(null);

  /** New rows that entered the view in the last update. */
  lastAdded = 0;
  /**
   * Rows that arrived on top while the person looks further down the feed. The list leaves
   * them out, so the rows in view stay put (without touching scrollTop, which would force a
   * layout on every batch), until the person is back at the top or asks for the newest.
   * Counted in the same update as the rows, so the list never draws the in-between state.
   */
  hiddenAbove = $state(0);
  /** Whether the person looks at the top of the feed (the view says so as it scrolls). */
  private atTop = true;

  private byId = new Map<number, FeedEntry>();
  private seqOf = new Map<number, number>();
  /** Ids, oldest first. */
  private order: number[] = [];
  /** Ids in the view, oldest first; null when no filter or search is active. */
  private view: number[] | null = null;
  private nextSeq = 0;
  private minSeq = 0;
  private bibCount = new Map<string, number>();
  private held = new Set<number>();
  private minNum = Number.POSITIVE_INFINITY;
  private maxNum = Number.NEGATIVE_INFINITY;
  /** Plain copies of filter, query and session for the hot loop (reading $state per row costs). */
  private f: FeedFilter = "all";
  private q = "";
  private sid: number | null = null;

  /**
   * Apply one batch from the host in one update. Returns the passings it newly recorded: new to
   * the feed and numbered after everything seen (not a replacement, nor an older passing whose
   * sync state changed before its page was loaded) — what makes the passing tone.
   */
  applyBatch(batch: FeedBatch): FeedEntry[] {
    let added = 0;
    const recorded: FeedEntry[] = [];
    for (const e of batch.entries) {
      if (this.sid !== null && e.session_id !== this.sid) continue; // another session's late update
      if (e.num_passing > this.maxNum && !this.byId.has(e.id)) recorded.push(e);
      if (this.upsert(e)) added++;
    }
    this.rawReads += batch.raw_reads;
    this.duplicates += batch.duplicates;
    this.commit(added);
    return recorded;
  }

  /** Add an older page (from feed_page) below what is loaded. */
  applyPage(entries: FeedEntry[], requested: number): void {
    const sorted = entries.slice().sort((a, b) => a.num_passing - b.num_passing);
    const fresh: number[] = [];
    for (const e of sorted) {
      if (this.byId.has(e.id)) continue;
      this.track(e);
      this.byId.set(e.id, e);
      fresh.push(e.id);
    }
    for (let i = fresh.length - 1; i >= 0; i--) this.seqOf.set(fresh[i], --this.minSeq);
    if (fresh.length > 0) this.order = fresh.concat(this.order);
    if (entries.length < requested) this.hasMore = false;
    if (this.view !== null) this.rebuildView();
    this.commit(0);
  }

  /** Forget everything (another session became current). */
  reset(sessionId: number | null = null): void {
    this.byId.clear();
    this.seqOf.clear();
    this.order = [];
    this.view = this.f === "all" && !this.q.trim() ? null : [];
    this.nextSeq = 0;
    this.minSeq = 0;
    this.bibCount.clear();
    this.held.clear();
    this.minNum = Number.POSITIVE_INFINITY;
    this.maxNum = Number.NEGATIVE_INFINITY;
    this.rawReads = 0;
    this.duplicates = 0;
    this.selectedId = null;
    this.hasMore = true;
    this.sessionId = sessionId;
    this.sid = sessionId;
    this.hiddenAbove = 0;
    this.commit(0);
  }

  setFilter(filter: FeedFilter): void {
    this.filter = filter;
    this.f = filter;
    this.hiddenAbove = 0;
    this.rebuildView();
    this.commit(0);
  }

  setQuery(query: string): void {
    this.query = query;
    this.q = query;
    this.hiddenAbove = 0;
    this.rebuildView();
    this.commit(0);
  }

  /** Where the person looks: at the top new rows show at once, further down they wait above. */
  follow(atTop: boolean): void {
    this.atTop = atTop;
    if (atTop && this.hiddenAbove > 0) this.hiddenAbove = 0;
  }

  /** Show the rows waiting above (the view scrolls to the top). */
  showNewest(): void {
    this.follow(true);
  }

  /** Row i of the view, 0 = newest. */
  rowAt(i: number): FeedEntry | undefined {
    const ids = this.view ?? this.order;
    const id = ids[ids.length - 1 - i];
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** Index in the view (0 = newest) of a passing id, or -1. */
  indexOf(id: number): number {
    const ids = this.view ?? this.order;
    const seq = this.seqOf.get(id);
    if (seq === undefined) return -1;
    const at = this.search(ids, seq);
    return at < ids.length && ids[at] === id ? ids.length - 1 - at : -1;
  }

  get(id: number): FeedEntry | undefined {
    return this.byId.get(id);
  }

  get selected(): FeedEntry | undefined {
    void this.version;
    return this.selectedId === null ? undefined : this.byId.get(this.selectedId);
  }

  /** Another live (not void) entry carries the same bib. */
  isRepeatedBib(e: FeedEntry): boolean {
    return e.bib !== null && (this.bibCount.get(e.bib) ?? 0) > 1;
  }

  /** Manual stamps still waiting for a bib, oldest first. */
  waitingStamps(): FeedEntry[] {
    void this.version;
    const out: FeedEntry[] = [];
    for (const id of this.held) {
      const e = this.byId.get(id);
      if (e) out.push(e);
    }
    return out.sort((a, b) => a.num_passing - b.num_passing);
  }

  /** Lowest num_passing loaded (for paging with feed_page). */
  oldestNum(): number | null {
    return Number.isFinite(this.minNum) ? this.minNum : null;
  }

  /** Move the selection by delta rows (keyboard). */
  moveSelection(delta: number): void {
    if (this.count === 0) return;
    const cur = this.selectedId === null ? -1 : this.indexOf(this.selectedId);
    const next = Math.max(0, Math.min(this.count - 1, cur + delta));
    const e = this.rowAt(next);
    if (e) this.selectedId = e.id;
  }

  // --- internals ----------------------------------------------------------------------

  /** Insert or replace; true when a new row entered the view. */
  private upsert(e: FeedEntry): boolean {
    const prev = this.byId.get(e.id);
    if (prev) {
      this.untrack(prev);
      this.track(e);
      this.byId.set(e.id, e);
      if (this.view !== null) {
        const was = matches(prev, this.f, this.q);
        const now = matches(e, this.f, this.q);
        if (was !== now) {
          const seq = this.seqOf.get(e.id) as number;
          const at = this.search(this.view, seq);
          if (now) this.view.splice(at, 0, e.id);
          else if (this.view[at] === e.id) this.view.splice(at, 1);
        }
      }
      return false;
    }
    if (this.sid === null) {
      this.sid = e.session_id;
      this.sessionId = e.session_id;
    }
    this.byId.set(e.id, e);
    this.seqOf.set(e.id, this.nextSeq++);
    this.order.push(e.id);
    this.track(e);
    if (this.view === null) return true;
    if (matches(e, this.f, this.q)) {
      this.view.push(e.id);
      return true;
    }
    return false;
  }

  private track(e: FeedEntry): void {
    if (e.bib !== null && !e.void) this.bibCount.set(e.bib, (this.bibCount.get(e.bib) ?? 0) + 1);
    if (e.source === "manual" && e.bib === null && !e.void) this.held.add(e.id);
    if (this.sid === null || e.session_id === this.sid) {
      if (e.num_passing < this.minNum) this.minNum = e.num_passing;
      if (e.num_passing > this.maxNum) this.maxNum = e.num_passing;
    }
  }

  private untrack(e: FeedEntry): void {
    if (e.bib !== null && !e.void) {
      const n = (this.bibCount.get(e.bib) ?? 1) - 1;
      if (n <= 0) this.bibCount.delete(e.bib);
      else this.bibCount.set(e.bib, n);
    }
    this.held.delete(e.id);
  }

  /** First index in ids whose seq is ≥ seq (ids are in ascending seq). */
  private search(ids: number[], seq: number): number {
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.seqOf.get(ids[mid]) as number) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private rebuildView(): void {
    if (this.f === "all" && !this.q.trim()) {
      this.view = null;
      return;
    }
    const out: number[] = [];
    for (const id of this.order) {
      const e = this.byId.get(id);
      if (e && matches(e, this.f, this.q)) out.push(id);
    }
    this.view = out;
  }

  private commit(added: number): void {
    this.lastAdded = added;
    this.total = this.order.length;
    this.count = (this.view ?? this.order).length;
    const hidden = this.atTop ? 0 : this.hiddenAbove + added;
    if (hidden !== this.hiddenAbove) this.hiddenAbove = Math.min(hidden, this.count);
    this.version++;
  }
}
