// The sound rules with a fake AudioContext and fake timers: at most ~8 tones a second whatever
// comes in, one tone per feed batch, alerts before the plain passing tone, mute and volume 0
// silence everything, the volume scales the gain, the context is made on the first gesture,
// window.__tones records every tone; and the AppModel wiring against the mock host.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { FeedEntry, ReaderView, SoundSettings } from "../ipc";
import { createMockHost } from "../ipc/mock";
import { AppModel } from "./app.svelte";
import {
  type AudioContextLike,
  BASE_GAIN,
  batchTone,
  MIN_GAP_MS,
  ReaderWatch,
  Sounds,
  SyncWatch,
  TONES,
  type ToneKind,
  warningTones,
} from "./sound";

/** A fake Web Audio context: records each oscillator's frequency and each gain's peak. */
class FakeContext implements AudioContextLike {
  state = "suspended";
  currentTime = 0;
  destination = { connect: () => undefined };
  resumes = 0;
  oscillators: { type: string; f: number }[] = [];
  peaks: number[] = [];

  async resume(): Promise<void> {
    this.resumes++;
    this.state = "running";
  }

  createOscillator() {
    const o = { type: "sine" as OscillatorType, f: 0 };
    this.oscillators.push(o);
    return {
      get type() {
        return o.type;
      },
      set type(t: OscillatorType) {
        o.type = t;
      },
      frequency: {
        setValueAtTime: (v: number) => {
          o.f = v;
        },
        linearRampToValueAtTime: () => undefined,
        exponentialRampToValueAtTime: () => undefined,
      },
      connect: () => undefined,
      start: () => undefined,
      stop: () => undefined,
    };
  }

  createGain() {
    return {
      gain: {
        setValueAtTime: () => undefined,
        linearRampToValueAtTime: (v: number) => {
          this.peaks.push(v);
        },
        exponentialRampToValueAtTime: () => undefined,
      },
      connect: () => undefined,
    };
  }
}

function setup(initial: SoundSettings = { muted: false, volume: 1 }) {
  const settings = { ...initial };
  const ctx = new FakeContext();
  const made = { count: 0 };
  const sounds = new Sounds({
    settings: () => settings,
    createContext: () => {
      made.count++;
      return ctx;
    },
  });
  return { sounds, settings, ctx, made };
}

/** Most tones that started within any 1-second window. */
function maxPerSecond(at: number[]): number {
  let best = 0;
  for (let i = 0; i < at.length; i++) {
    let n = 0;
    for (let j = i; j < at.length && at[j] - at[i] < 1000; j++) n++;
    best = Math.max(best, n);
  }
  return best;
}

function entry(over: Partial<FeedEntry> = {}): FeedEntry {
  return {
    id: 1,
    session_id: 1,
    num_passing: 1,
    bib: "12",
    chip: "E200",
    name: null,
    category: null,
    wave: null,
    race_time_ms: null,
    timestamp: "2026-05-10T09:00:00.000Z",
    source: "reader",
    void: false,
    corrected: false,
    unknown_chip: false,
    sync_state: "pending",
    sync_error: null,
    ...over,
  };
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 4, 10, 9, 0, 0) });
});

afterEach(() => {
  vi.useRealTimers();
});

describe("Sounds: rate limit", () => {
  it("a finish at 200 reads/s (a batch every 50 ms) makes at most 8 tones a second, never closer than the gap", () => {
    const { sounds } = setup();
    for (let i = 0; i < 200; i++) {
      // each batch asks for one tone; now and then one with an unknown chip or a repeated bib
      sounds.request(i % 7 === 3 ? "unknown" : i % 11 === 5 ? "repeated" : "passing");
      vi.advanceTimersByTime(50);
    }
    vi.advanceTimersByTime(2000);
    const at = sounds.tones.map((t) => t.at);
    expect(at.length).toBeGreaterThan(20);
    expect(maxPerSecond(at)).toBeLessThanOrEqual(8);
    for (let i = 1; i < at.length; i++) expect(at[i] - at[i - 1]).toBeGreaterThanOrEqual(MIN_GAP_MS);
  });

  it("a burst of requests in one instant plays one tone now and one per kind later, not a backlog", () => {
    const { sounds } = setup();
    for (let i = 0; i < 500; i++) sounds.request("passing");
    expect(sounds.tones.map((t) => t.kind)).toEqual(["passing"]);
    vi.advanceTimersByTime(5000);
    // the rest coalesced into one waiting passing tone
    expect(sounds.tones.map((t) => t.kind)).toEqual(["passing", "passing"]);
  });

  it("plays the first tone at once and a second one after the gap", () => {
    const { sounds } = setup();
    const t0 = Date.now();
    sounds.request("passing");
    sounds.request("passing");
    expect(sounds.tones).toEqual([{ kind: "passing", at: t0 }]);
    vi.advanceTimersByTime(MIN_GAP_MS);
    expect(sounds.tones).toEqual([
      { kind: "passing", at: t0 },
      { kind: "passing", at: t0 + MIN_GAP_MS },
    ]);
  });
});

describe("Sounds: precedence", () => {
  it("an alert replaces a waiting passing tone; waiting alerts play most important first", () => {
    const { sounds } = setup();
    sounds.request("passing"); // plays now
    sounds.request("passing"); // waits
    sounds.request("quiet");
    sounds.request("unknown");
    sounds.request("lost");
    sounds.request("passing"); // an alert waits: dropped
    vi.advanceTimersByTime(5000);
    expect(sounds.tones.map((t) => t.kind)).toEqual(["passing", "lost", "unknown", "quiet"]);
  });

  it("a passing tone right after an alert is dropped (the alert already said it)", () => {
    const { sounds } = setup();
    sounds.request("repeated");
    vi.advanceTimersByTime(250);
    sounds.request("passing");
    vi.advanceTimersByTime(1000);
    sounds.request("passing");
    expect(sounds.tones.map((t) => t.kind)).toEqual(["repeated", "passing"]);
  });

  it("the same alert reported twice at once (feed and manual warning) plays once", () => {
    const { sounds } = setup();
    sounds.request("repeated");
    vi.advanceTimersByTime(30);
    sounds.request("repeated");
    vi.advanceTimersByTime(2000);
    sounds.request("repeated");
    expect(sounds.tones.map((t) => t.kind)).toEqual(["repeated", "repeated"]);
  });

  it("a batch asks for one tone: unknown chip > repeated bib > passing; changes alone make none", () => {
    const repeated = (e: FeedEntry) => e.bib === "7";
    expect(batchTone([], repeated)).toBeNull();
    expect(batchTone([entry({ void: true })], repeated)).toBeNull();
    expect(batchTone([entry(), entry({ id: 2 })], repeated)).toBe("passing");
    expect(batchTone([entry(), entry({ id: 2, bib: "7" })], repeated)).toBe("repeated");
    expect(batchTone([entry({ bib: "7" }), entry({ id: 2, unknown_chip: true }), entry({ id: 3 })], repeated)).toBe("unknown");
  });

  it("manual warnings map to the unknown and repeated tones", () => {
    expect(warningTones([])).toEqual([]);
    expect(warningTones([{ kind: "unknown_bib" }])).toEqual(["unknown"]);
    expect(warningTones([{ kind: "repeated_bib" }, { kind: "unknown_bib" }])).toEqual(["unknown", "repeated"]);
  });
});

describe("Sounds: mute and volume", () => {
  it("muted or at volume 0: nothing plays and nothing is recorded; unmuted it plays again", async () => {
    const { sounds, settings, ctx } = setup({ muted: true, volume: 1 });
    sounds.unlock();
    await Promise.resolve();
    for (const k of Object.keys(TONES) as ToneKind[]) sounds.request(k);
    vi.advanceTimersByTime(5000);
    expect(sounds.tones).toEqual([]);
    settings.muted = false;
    settings.volume = 0;
    sounds.request("lost");
    vi.advanceTimersByTime(5000);
    expect(sounds.tones).toEqual([]);
    expect(ctx.oscillators).toEqual([]);
    settings.volume = 0.5;
    sounds.request("lost");
    expect(sounds.tones.map((t) => t.kind)).toEqual(["lost"]);
    expect(ctx.oscillators.length).toBe(TONES.lost.length);
  });

  it("muting drops what was waiting", () => {
    const { sounds, settings } = setup();
    sounds.request("passing");
    sounds.request("unknown");
    sounds.request("sync");
    settings.muted = true;
    vi.advanceTimersByTime(5000);
    expect(sounds.tones.map((t) => t.kind)).toEqual(["passing"]);
  });

  it("the volume scales the gain", async () => {
    const loud = setup({ muted: false, volume: 1 });
    const soft = setup({ muted: false, volume: 0.25 });
    for (const s of [loud, soft]) {
      s.sounds.unlock();
      await Promise.resolve();
      s.sounds.request("passing");
    }
    expect(loud.ctx.peaks).toEqual([BASE_GAIN * TONES.passing[0].level]);
    expect(soft.ctx.peaks[0]).toBeCloseTo(loud.ctx.peaks[0] * 0.25);
  });

  it("tones are distinct (frequencies and rhythm differ per kind)", () => {
    const sig = (k: ToneKind) => TONES[k].map((n) => `${n.f}/${n.at}/${n.dur}/${n.type}`).join(" ");
    const kinds = Object.keys(TONES) as ToneKind[];
    expect(new Set(kinds.map(sig)).size).toBe(kinds.length);
    for (const k of kinds) expect(Math.max(...TONES[k].map((n) => n.at + n.dur))).toBeLessThan(500);
  });
});

describe("Sounds: audio context and the test hook", () => {
  it("makes the context on the first gesture only, resumes it, and is silent but recorded before", async () => {
    const { sounds, ctx, made } = setup();
    const listeners = new Map<string, () => void>();
    const win = {
      addEventListener: (type: string, fn: () => void) => listeners.set(type, fn),
      removeEventListener: (type: string) => listeners.delete(type),
    } as unknown as Window;
    const detach = sounds.attach(win);
    expect(win.__tones).toBe(sounds.tones);
    sounds.request("passing");
    expect(made.count).toBe(0);
    expect(win.__tones).toEqual([{ kind: "passing", at: Date.now() }]);
    expect(ctx.oscillators).toEqual([]);

    listeners.get("keydown")?.();
    await Promise.resolve();
    expect(made.count).toBe(1);
    expect(ctx.state).toBe("running");
    listeners.get("pointerdown")?.();
    expect(made.count).toBe(1);
    expect(ctx.resumes).toBe(1);

    vi.advanceTimersByTime(1000);
    sounds.request("unknown");
    expect(ctx.oscillators.map((o) => o.f)).toEqual(TONES.unknown.map((n) => n.f));
    expect(win.__tones?.map((t) => t.kind)).toEqual(["passing", "unknown"]);
    detach();
    expect(listeners.size).toBe(0);
  });

  it("works silently where there is no AudioContext (Vitest)", () => {
    const settings = { muted: false, volume: 1 };
    const sounds = new Sounds({ settings: () => settings }); // the browser default: none here
    sounds.unlock();
    sounds.request("lost");
    sounds.demo(settings);
    vi.advanceTimersByTime(5000);
    expect(sounds.tones.map((t) => t.kind)).toEqual(["lost", "passing", "unknown", "repeated", "quiet", "lost", "sync"]);
  });

  it("the Test button plays each tone once at the form's volume, nothing when muted", async () => {
    const { sounds, ctx } = setup({ muted: true, volume: 1 });
    sounds.demo({ muted: true, volume: 1 });
    vi.advanceTimersByTime(5000);
    expect(sounds.tones).toEqual([]);
    sounds.demo({ muted: false, volume: 0.5 });
    await Promise.resolve();
    vi.advanceTimersByTime(5000);
    expect(sounds.tones.map((t) => t.kind)).toEqual(Object.keys(TONES));
    expect(ctx.peaks[0]).toBeCloseTo(BASE_GAIN * TONES.passing[0].level * 0.5);
  });
});

describe("watching readers and sync", () => {
  const reader = (name: string, state: string) => ({ name, state }) as ReaderView;

  it("a reader turning quiet or lost asks for its tone; the first list is the baseline", () => {
    const w = new ReaderWatch();
    expect(w.update([reader("a", "quiet"), reader("b", "lost")])).toEqual([]);
    expect(w.update([reader("a", "reading"), reader("b", "lost")])).toEqual([]);
    expect(w.update([reader("a", "quiet"), reader("b", "lost")])).toEqual(["quiet"]);
    expect(w.update([reader("a", "lost"), reader("b", "connecting")])).toEqual(["lost"]);
    expect(w.update([reader("a", "lost"), reader("b", "connecting"), reader("c", "lost")])).toEqual(["lost"]);
    expect(w.update([reader("a", "stopped"), reader("b", "reading"), reader("c", "lost")])).toEqual([]);
  });

  it("sync turning failing or stopped asks for the sync tone", () => {
    const w = new SyncWatch();
    expect(w.update("failing")).toBeNull(); // baseline
    expect(w.update("failing")).toBeNull();
    expect(w.update("ok")).toBeNull();
    expect(w.update("pending")).toBeNull();
    expect(w.update("failing")).toBe("sync");
    expect(w.update("stopped")).toBe("sync");
    expect(w.update("offline")).toBeNull();
  });
});

describe("AppModel wiring (mock host)", () => {
  it("feed batches, a quiet reader, failing sync and manual warnings make their tones", async () => {
    const host = createMockHost({ timers: false, rate: 0, now: () => Date.now() });
    await host.apiKeySet("key-12345678");
    const app = new AppModel(host);
    await app.start();
    await host.sessionOpen("Race");
    await app.status.refresh(host);
    await app.followSession(app.status.session?.id ?? null);

    const kinds = () => app.sounds.tones.map((t) => t.kind);
    host.setRate(20);
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(100);
      host.tick(100);
    }
    await vi.advanceTimersByTimeAsync(0);
    expect(kinds()).toContain("passing");

    // The reader stops reading: quiet after 10 s.
    host.setRate(0);
    for (let i = 0; i < 12; i++) {
      vi.advanceTimersByTime(1000);
      host.tick(1000);
    }
    await vi.advanceTimersByTimeAsync(1000);
    expect(kinds()).toContain("quiet");

    // Sync fails.
    const before = app.sounds.tones.length;
    host.setOnline(false);
    await host.manualMark("13", null, false);
    for (let i = 0; i < 30; i++) {
      vi.advanceTimersByTime(1000);
      host.tick(1000);
    }
    await vi.advanceTimersByTimeAsync(1000);
    expect(kinds().slice(before)).toContain("sync");

    // A manual entry of a bib not in the participant list: its warning makes the tone at once;
    // the passing tone of its feed batch (right after) is dropped behind the alert.
    vi.advanceTimersByTime(1000);
    let from = app.sounds.tones.length;
    app.manual.input = "9999";
    app.manual.handleKey({ key: "Enter" });
    await app.manual.settled();
    expect(kinds().slice(from)).toEqual(["unknown"]);
    vi.advanceTimersByTime(50);
    host.tick(50);
    await vi.advanceTimersByTimeAsync(2000);
    expect(kinds().slice(from)).toEqual(["unknown"]);

    // A repeated bib (13 was recorded above): the warning and the feed both say so, one tone.
    from = app.sounds.tones.length;
    app.manual.input = "13";
    app.manual.handleKey({ key: "Enter" });
    await app.manual.settled();
    expect(kinds().slice(from)).toEqual(["repeated"]);
    vi.advanceTimersByTime(50);
    host.tick(50);
    await vi.advanceTimersByTimeAsync(2000);
    expect(kinds().slice(from)).toEqual(["repeated"]);

    // Alt+M: muted and saved; nothing more is recorded.
    await app.toggleMute();
    expect(app.status.settings.sound.muted).toBe(true);
    expect((await host.appState()).settings.sound.muted).toBe(true);
    const muted = app.sounds.tones.length;
    host.setRate(50);
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(100);
      host.tick(100);
    }
    await vi.advanceTimersByTimeAsync(2000);
    expect(app.sounds.tones.length).toBe(muted);
    await app.toggleMute();
    expect(app.status.settings.sound.muted).toBe(false);

    app.dispose();
    host.dispose();
  });
});
