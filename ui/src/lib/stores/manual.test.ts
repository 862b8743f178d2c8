// Manual-entry controller tests against the mock host: the three modes of design.md, several
// bibs at once, numpad keys, undo, warnings (unknown / repeated bib, non-blocking) and errors.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FeedBatch } from "../../ipc";
import { createMockHost, type MockHost } from "../../ipc/mock";
import { FeedStore } from "./feed.svelte";
import { type KeyLike, ManualEntryController, normaliseBibs, warningText } from "./manual.svelte";

let t = Date.UTC(2026, 4, 10, 9, 0, 0);
let host: MockHost;
let feed: FeedStore;
let manual: ManualEntryController;

async function recordingSession(): Promise<void> {
  await host.apiKeySet("test-key-123456");
  await host.deviceBind({
    serial_number: "TEST-1",
    model: "Timing Console",
    device_type: "custom",
    alias: null,
    firmware: null,
    take_over: false,
  });
  const s = await host.sessionOpen("Test 10K");
  feed.reset(s.id);
}

function key(k: string, extra: Partial<KeyLike> = {}): boolean {
  return manual.handleKey({ key: k, ...extra });
}

function typeAndEnter(text: string): void {
  manual.input = text;
  key("Enter");
}

function sync(): void {
  host.tick(1000);
}

beforeEach(async () => {
  t = Date.UTC(2026, 4, 10, 9, 0, 0);
  host = createMockHost({ timers: false, rate: 0, now: () => t });
  feed = new FeedStore();
  await host.subscribeFeed((b: FeedBatch) => feed.applyBatch(b));
  manual = new ManualEntryController(host, { now: () => t });
  await recordingSession();
});

afterEach(() => host.dispose());

describe("mode 1: bib then Enter", () => {
  it("records a bib now and shows it only after the host committed it", async () => {
    t += 1000;
    typeAndEnter("12");
    expect(manual.input).toBe("");
    expect(manual.recent).toHaveLength(0); // not shown as recorded before the host answers
    await manual.settled();
    expect(manual.recent[0].passings[0]).toMatchObject({ bib: "12", num_passing: 1, source: "manual" });
    expect(manual.recent[0].passings[0].timestamp).toBe(new Date(t).toISOString());
    host.flushFeed();
    expect(feed.rowAt(0)?.bib).toBe("12");
  });

  it("Enter on an empty field records a time without bib", async () => {
    key("Enter");
    await manual.settled();
    expect(manual.recent[0].passings[0].bib).toBeNull();
    host.flushFeed();
    expect(feed.waitingStamps()).toHaveLength(1);
  });

  it("records several bibs at one time, separated by commas (or the numpad's .)", async () => {
    typeAndEnter("21,22, 23");
    await manual.settled();
    const ps = manual.recent[0].passings;
    expect(ps.map((p) => p.bib)).toEqual(["21", "22", "23"]);
    expect(new Set(ps.map((p) => p.timestamp)).size).toBe(1);
    typeAndEnter("31.32");
    await manual.settled();
    expect(manual.recent[0].passings.map((p) => p.bib)).toEqual(["31", "32"]);
  });

  it("numpad Enter works (key is Enter, code NumpadEnter)", async () => {
    manual.input = "44";
    expect(manual.handleKey({ key: "Enter", code: "NumpadEnter" })).toBe(true);
    await manual.settled();
    expect(manual.recent[0].passings[0].bib).toBe("44");
  });

  it("Space is typed text in this mode, not a stamp", () => {
    expect(key(" ")).toBe(false);
  });
});

describe("mode 2: time first", () => {
  beforeEach(() => manual.setMode("time"));

  it("Space and + stamp times; typed bibs go to the oldest waiting stamp", async () => {
    t += 100;
    expect(key(" ")).toBe(true);
    t += 100;
    expect(key("+")).toBe(true);
    t += 100;
    expect(manual.handleKey({ key: "+", code: "NumpadAdd" })).toBe(true);
    await manual.settled();
    host.flushFeed();
    const waiting = feed.waitingStamps();
    expect(waiting.map((w) => w.num_passing)).toEqual([1, 2, 3]);
    const times = waiting.map((w) => w.timestamp);

    typeAndEnter("7");
    await manual.settled();
    expect(manual.recent[0].passings[0]).toMatchObject({ num_passing: 1, bib: "7", timestamp: times[0] });
    typeAndEnter("8,9");
    await manual.settled();
    expect(manual.recent[0].passings.map((p) => [p.num_passing, p.bib])).toEqual([
      [2, "8"],
      [3, "9"],
    ]);
    host.flushFeed();
    expect(feed.waitingStamps()).toHaveLength(0);
  });

  it("a stamp keyed while a bib is being typed keeps the typed text", async () => {
    manual.input = "1";
    key(" ");
    await manual.settled();
    expect(manual.input).toBe("1");
    expect(manual.recent[0].passings[0].bib).toBeNull();
  });

  it("keeps the finish order of a fast bunch", async () => {
    for (let i = 0; i < 10; i++) {
      t += 7;
      key(" ");
    }
    await manual.settled();
    host.flushFeed();
    const w = feed.waitingStamps();
    expect(w.map((x) => x.num_passing)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const ts = w.map((x) => Date.parse(x.timestamp));
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
  });

  it("says so when there is no stamp waiting and gives the typed bib back", async () => {
    typeAndEnter("5");
    await manual.settled();
    expect(manual.error?.code).toBe("conflict");
    expect(manual.input).toBe("5");
  });
});

describe("mode 3: typed ahead", () => {
  beforeEach(() => manual.setMode("queue"));

  it("queues bibs and records the first on Space / +", async () => {
    typeAndEnter("101");
    typeAndEnter("102,103");
    await manual.settled();
    expect(manual.queued).toEqual(["101", "102", "103"]);
    expect(manual.recent[0].passings).toHaveLength(0);
    t += 500;
    key(" ");
    await manual.settled();
    expect(manual.recent[0].passings[0]).toMatchObject({ bib: "101", timestamp: new Date(t).toISOString() });
    expect(manual.queued).toEqual(["102", "103"]);
    key("+");
    await manual.settled();
    expect(manual.queued).toEqual(["103"]);
  });

  it("with an empty queue a stamp still records the time (never lose a runner)", async () => {
    key(" ");
    await manual.settled();
    expect(manual.recent[0].passings[0].bib).toBeNull();
  });

  it("Enter on an empty field does nothing", async () => {
    key("Enter");
    await manual.settled();
    expect(manual.recent).toHaveLength(0);
  });
});

describe("undo", () => {
  it("Ctrl+Z voids the last recorded passings (a correction, not a delete)", async () => {
    typeAndEnter("12");
    typeAndEnter("13");
    await manual.settled();
    expect(key("z", { ctrlKey: true })).toBe(true);
    await manual.settled();
    expect(manual.recent[0].undo).toBe(true);
    host.flushFeed();
    expect(feed.rowAt(0)).toMatchObject({ bib: "13", void: true });
    expect(feed.rowAt(1)).toMatchObject({ bib: "12", void: false });
    const audit = await host.passingAudit(feed.rowAt(0)?.id as number);
    expect(audit[0]).toMatchObject({ kind: "void", reason: "undo" });
  });

  it("undo of a typed-ahead stamp puts the bib back at the head of the queue", async () => {
    manual.setMode("queue");
    typeAndEnter("1,2");
    key(" ");
    await manual.settled();
    expect(manual.queued).toEqual(["2"]);
    await manual.undo();
    expect(manual.queued).toEqual(["1", "2"]);
    await manual.undo(); // undo the queueing itself
    expect(manual.queued).toEqual([]);
  });

  it("undo of an assignment makes the stamp wait for a bib again", async () => {
    manual.setMode("time");
    key(" ");
    typeAndEnter("77");
    await manual.settled();
    host.flushFeed();
    expect(feed.waitingStamps()).toHaveLength(0);
    await manual.undo();
    host.flushFeed();
    expect(feed.waitingStamps()).toHaveLength(1);
  });

  it("with nothing to undo says so", async () => {
    await manual.undo();
    expect(manual.error).toMatchObject({ code: "invalid", message: "Nothing to undo" });
  });
});

describe("warnings and errors", () => {
  it("warns about an unknown bib without blocking it", async () => {
    typeAndEnter("99999");
    await manual.settled();
    expect(manual.recent[0].passings[0].bib).toBe("99999");
    expect(manual.warnings).toEqual([{ kind: "unknown_bib", bib: "99999" }]);
    expect(warningText(manual.warnings[0])).toContain("not in the participant list");
  });

  it("warns about a repeated bib with the earlier number, and clears on the next clean action", async () => {
    typeAndEnter("12");
    typeAndEnter("12");
    await manual.settled();
    expect(manual.warnings).toEqual([{ kind: "repeated_bib", bib: "12", earlier_num: 1 }]);
    expect(manual.recent[0].passings[0].num_passing).toBe(2);
    typeAndEnter("14");
    await manual.settled();
    expect(manual.warnings).toEqual([]);
  });

  it("rejects what is not a bib with the host's invalid code and keeps the text", async () => {
    typeAndEnter("12#");
    await manual.settled();
    expect(manual.error?.code).toBe("invalid");
    expect(manual.input).toBe("12#");
  });

  it("without an open session every action says no_open_session", async () => {
    await host.sessionClose();
    typeAndEnter("12");
    await manual.settled();
    expect(manual.error?.code).toBe("no_open_session");
    manual.setMode("time");
    key(" ");
    await manual.settled();
    expect(manual.error?.code).toBe("no_open_session");
  });

  it("Alt+B/T/Q switch modes, Escape clears", () => {
    expect(key("t", { altKey: true })).toBe(true);
    expect(manual.mode).toBe("time");
    expect(key("q", { altKey: true })).toBe(true);
    expect(manual.mode).toBe("queue");
    expect(key("b", { altKey: true })).toBe(true);
    expect(manual.mode).toBe("bib");
    manual.input = "123";
    key("Escape");
    expect(manual.input).toBe("");
  });

  it("normalises typed separators", () => {
    expect(normaliseBibs(" 1, 2 ..3;4  ")).toBe("1,2,3,4");
    expect(normaliseBibs("")).toBe("");
  });
});

describe("sync of manual entries", () => {
  it("a bib-less stamp is held back; it is sent once it has a bib", async () => {
    sync();
    t += 400;
    sync(); // session gets its cloud token
    manual.setMode("time");
    key(" ");
    await manual.settled();
    t += 1000;
    sync();
    let st = await host.appState();
    expect(st.sync.pending).toBe(0);
    let d = await host.sessionDetails(st.session?.id as number);
    expect(d.outbox.held).toBe(1);
    typeAndEnter("5");
    await manual.settled();
    t += 1000;
    sync();
    st = await host.appState();
    d = await host.sessionDetails(st.session?.id as number);
    expect(d.outbox).toMatchObject({ held: 0, pending: 0, sent: 1 });
  });
});

describe("key press times and stamps in flight", () => {
  /** A host whose stamps answer only when released: counts what is in flight. */
  function holdingHost() {
    const calls: { cmd: string; pressedAt?: number; release: () => void }[] = [];
    const answer = (cmd: string, pressedAt?: number) =>
      new Promise<never>((resolve) => {
        calls.push({
          cmd,
          pressedAt,
          release: () => resolve({ passings: [], warnings: [], queued: [], time_warning: null } as never),
        });
      });
    const fake = {
      manualStamp: (pressedAt: number) => answer("stamp", pressedAt),
      manualStampQueued: (pressedAt: number) => answer("stamp_queued", pressedAt),
      manualMark: (_bibs: string, pressedAt: number) => answer("mark", pressedAt),
      manualAssign: () => answer("assign"),
      manualQueue: () => answer("queue"),
      manualUndo: () => answer("undo"),
    };
    return { host: fake as unknown as MockHost, calls };
  }
  const ticks = () => new Promise((r) => setTimeout(r, 0));

  it("10 presses in 200 ms are 10 commands in flight, each with its own key press time", async () => {
    const h = holdingHost();
    const m = new ManualEntryController(h.host, { now: () => t });
    m.setMode("time");
    const pressed: number[] = [];
    for (let i = 0; i < 10; i++) {
      t += 20;
      pressed.push(t);
      m.handleKey({ key: i % 2 === 0 ? " " : "+" });
    }
    await ticks();
    expect(h.calls).toHaveLength(10); // none waited for an answer
    expect(m.inFlight).toBe(10);
    expect(h.calls.map((c) => c.pressedAt)).toEqual(pressed);
    for (const c of h.calls) c.release();
    await m.settled();
    expect(m.inFlight).toBe(0);
  });

  it("the stamp button, Space and Enter all send the time of the key press, not of the answer", async () => {
    manual.setMode("time");
    const pressed = t;
    key(" ");
    t += 5000; // the answer comes late; the stamp keeps the press time
    await manual.settled();
    expect(manual.recent[0].passings[0].timestamp).toBe(new Date(pressed).toISOString());
    const buttonAt = t;
    void manual.stamp(); // the button: now() at the click
    t += 3000;
    await manual.settled();
    expect(manual.recent[0].passings[0].timestamp).toBe(new Date(buttonAt).toISOString());
    manual.setMode("bib");
    manual.input = "44";
    const enterAt = t;
    key("Enter");
    t += 1500;
    await manual.settled();
    expect(manual.recent[0].passings[0]).toMatchObject({ bib: "44", timestamp: new Date(enterAt).toISOString() });
    expect(manual.timeWarning).toBeNull();
  });

  it("an assignment waits for the stamps keyed before it; stamps keyed after it wait for it", async () => {
    const h = holdingHost();
    const m = new ManualEntryController(h.host, { now: () => t });
    m.setMode("time");
    m.handleKey({ key: " " });
    m.handleKey({ key: " " });
    m.input = "7,8";
    m.handleKey({ key: "Enter" });
    m.handleKey({ key: " " });
    await ticks();
    expect(h.calls.map((c) => c.cmd)).toEqual(["stamp", "stamp"]);
    h.calls[0].release();
    h.calls[1].release();
    await ticks();
    expect(h.calls.map((c) => c.cmd)).toEqual(["stamp", "stamp", "assign"]);
    h.calls[2].release();
    await ticks();
    expect(h.calls.map((c) => c.cmd)).toEqual(["stamp", "stamp", "assign", "stamp"]);
    h.calls[3].release();
    await m.settled();
  });

  it("a key press time the host cannot vouch for is stamped now, with the reason shown", async () => {
    manual.setMode("time");
    void manual.stamp(t - 10 * 60_000);
    await manual.settled();
    expect(manual.timeWarning).toMatch(/too old/);
    expect(manual.recent[0].passings[0].timestamp).toBe(new Date(t).toISOString());
    key(" ");
    await manual.settled();
    expect(manual.timeWarning).toBeNull();
  });
});

describe("more than 50 bibs in one entry", () => {
  const many = Array.from({ length: 51 }, (_, i) => String(100 + i)).join(",");

  it("asks for confirmation, and records them all once confirmed", async () => {
    typeAndEnter(many);
    await manual.settled();
    expect(manual.confirmation?.message).toMatch(/51 bibs/);
    expect(manual.recent).toHaveLength(0);
    expect(manual.error).toBeNull();
    await manual.confirm();
    await manual.settled();
    expect(manual.confirmation).toBeNull();
    expect(manual.recent[0].passings).toHaveLength(51);
  });

  it("cancel records nothing and gives the typed text back", async () => {
    manual.setMode("queue");
    typeAndEnter(many);
    await manual.settled();
    expect(manual.confirmation).not.toBeNull();
    manual.cancelConfirmation();
    expect(manual.input).toBe(many);
    expect(manual.queued).toHaveLength(0);
  });

  it("50 bibs need no confirmation", async () => {
    typeAndEnter(Array.from({ length: 50 }, (_, i) => String(200 + i)).join(","));
    await manual.settled();
    expect(manual.confirmation).toBeNull();
    expect(manual.recent[0].passings).toHaveLength(50);
  });
});
