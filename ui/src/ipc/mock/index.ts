// An in-memory Host for browser tests, demos and benchmarks: fake RUFUS account devices,
// bind with serial lookup, sessions with state changes, a simulated reader producing a
// realistic finish (bunches, duplicate reads, unknown chips), the three manual-entry modes,
// undo, corrections (in place while pending, carrier passings once sent), a sync engine that
// drains pending → sent with a visible backlog, and errors with the real app's codes.
//
// One handler per command (the generated CommandHandlers, one file per domain over the shared
// MockWorld), run by the mock's own Invoke; the client is the same generated commandClient the
// Tauri host uses. The test hooks (window.__mockHost) drive the simulation.

import {
  type CommandHandlers,
  type CommandName,
  type Commands,
  commandClient,
  type Device,
  FEED_GAP_MS,
  type Invoke,
} from "../bindings.gen";
import { ANNOUNCER_VIEW, type EventName, type EventPayloads, type Host, toIpcError, type Unsubscribe } from "../host";
import { appControls, appHandlers } from "./app";
import { isoUtc } from "./data";
import { deviceControls, deviceHandlers } from "./devices";
import { feedControls, feedHandlers, flushFeed } from "./feed";
import { raceHandlers, recordStart } from "./race";
import { addReader, connectReader, readerControls, readerHandlers, stepReader } from "./readers";
import { sessionControls, sessionHandlers } from "./sessions";
import { stepSync, syncControls, syncHandlers } from "./sync";
import { updateControls, updateHandlers } from "./updates";
import { err, type MockOptions, MockWorld, PRODUCTION_API } from "./world";

export { decodeText } from "./app";
export { CONFIRM_ABOVE } from "./feed";
export { llrpReadBack, MOCK_COMPUTER_ZONE } from "./readers";
export {
  type MockOptions,
  type MockScenario,
  MockWorld,
  PRODUCTION_API,
  SIMULATOR_API,
  type UpdateFacts,
  updateBlockedReason,
} from "./world";

/** Every command's handler over one world; typed so that a missing one does not compile. */
export function mockHandlers(w: MockWorld): CommandHandlers {
  return {
    ...appHandlers(w),
    ...deviceHandlers(w),
    ...sessionHandlers(w),
    ...syncHandlers(w),
    ...feedHandlers(w),
    ...readerHandlers(w),
    ...raceHandlers(w),
    ...updateHandlers(w),
  };
}

/** The test hooks of every domain (window.__mockHost drives them). */
export type MockControls = ReturnType<typeof appControls> &
  ReturnType<typeof deviceControls> &
  ReturnType<typeof sessionControls> &
  ReturnType<typeof syncControls> &
  ReturnType<typeof feedControls> &
  ReturnType<typeof readerControls> &
  ReturnType<typeof updateControls>;

export interface MockHost extends Host, MockControls {
  readonly kind: "mock";
  /** The mock's invoke: runs a command's handler after the simulated latency; unknown names are refused. */
  readonly invoke: Invoke;
  /** How often "Retry now" was asked for (tests). */
  readonly retries: number;
  /** The in-memory state, for tests that read what the host recorded. */
  readonly world: MockWorld;
  /** The passings recorded, by id (the e2e test reads them: the feed is a virtual list). */
  readonly passings: MockWorld["passings"];
  /** Advance the simulation by hand (tests run with timers off). */
  tick(ms?: number): void;
  /** Stop the timers. */
  dispose(): void;
}

/** One step of the simulation: every reader, then the sync engine. */
function step(w: MockWorld, dt: number): void {
  const t = w.now();
  for (const rd of w.readers.values()) stepReader(w, rd, t, dt);
  stepSync(w, t, dt);
}

function startTimers(w: MockWorld): void {
  w.timers.push(
    setInterval(() => {
      const t = w.now();
      step(w, Math.min(1000, t - w.lastTick));
      w.lastTick = t;
    }, 25),
  );
  let due: ReturnType<typeof setTimeout> | null = null;
  let last = Number.NEGATIVE_INFINITY;
  w.feedPending = () => {
    if (due !== null) return;
    due = setTimeout(
      () => {
        due = null;
        last = performance.now();
        flushFeed(w);
        if (w.changed.size > 0) w.feedPending(); // more than one batch holds
      },
      Math.max(0, last + FEED_GAP_MS - performance.now()),
    );
  };
  w.stopFeed = () => {
    if (due !== null) clearTimeout(due);
    due = null;
  };
  w.timers.push(setInterval(() => w.emitStatus(false), 250));
  w.timers.push(setInterval(() => w.emit("clock", w.clockStatus()), 1000));
}

/** "demo": a key, a bound device, an active session with passings, three readers. */
function setupDemo(w: MockWorld, seed: MockControls["seed"]): void {
  w.apiKey = "demo-key-0000";
  const dev: Device = {
    deviceid: "dv_19c04455",
    serial_number: "TC-LAPTOP-01",
    model: "Timing Console",
    device_type: "custom",
    alias: "Laptop A",
    firmware: "0.1.0",
    api_base_url: PRODUCTION_API,
    bound_at: isoUtc(w.now() - 86_400_000),
  };
  w.bound.push(dev);
  w.currentDeviceId = dev.deviceid;
  const s = w.createSession(dev.deviceid, "Valencia 10K — Finish");
  s.opened_at = isoUtc(w.now() - 47 * 60_000);
  s.token_session = "tk_demo01";
  s.state = "active";
  // The race is on: the 10K went a minute after the session opened, the 5K three minutes later.
  const opened = Date.parse(s.opened_at);
  recordStart(w, "10K", { kind: "now", pressed_at: opened + 60_000 });
  recordStart(w, "5K", { kind: "now", pressed_at: opened + 240_000 });
  seed(180, "sent");
  seed(40, "pending");
  addReader(w, "backup-ultra", "tcp:192.0.2.50:23?protocol=ultra", false).view.state = "quiet";
  // An LLRP reader asked for more power on antenna 1 than its table has (it applies 81).
  const llrp = addReader(w, "mat-llrp", "tcp:192.0.2.60:5084?protocol=llrp&power=1:90,2:60&sensitivity=10", false);
  connectReader(w, llrp, "tcp", "192.0.2.60:5084");
  const sim = w.readers.get("sim-finish");
  if (sim) sim.view.rate_history = [2.2, 3.1, 4.8, 6.5, 5.2, 3.9, 4.4, 7.8, 9.6, 6.1, 4.7, 5.0];
}

export function createMockHost(opts: MockOptions = {}): MockHost {
  const w = new MockWorld(opts);
  const latencyMs = opts.latencyMs ?? 0;
  const latency = (): Promise<void> => (latencyMs <= 0 ? Promise.resolve() : new Promise((res) => setTimeout(res, latencyMs)));

  const handlers = mockHandlers(w);
  const invoke: Invoke = async <K extends CommandName>(cmd: K, args: Commands[K]["args"]) => {
    await latency();
    // Own names only: "constructor", "toString" or a stream (feed_subscribe) are not commands.
    if (!Object.hasOwn(handlers, cmd)) throw err("internal", `command ${String(cmd)} not found`);
    const run = handlers[cmd] as (a: Commands[K]["args"]) => Promise<Commands[K]["result"]>;
    try {
      return await run(args);
    } catch (e) {
      throw toIpcError(e);
    }
  };

  const controls: MockControls = {
    ...appControls(w),
    ...deviceControls(w),
    ...sessionControls(w),
    ...syncControls(w),
    ...feedControls(w),
    ...readerControls(w),
    ...updateControls(w),
  };

  addReader(w, "sim-finish", `sim:runners=1500,rate=${opts.rate ?? 5}`, true);
  if (opts.update) controls.offerUpdate(opts.update);
  if ((opts.scenario ?? "first-run") === "demo") setupDemo(w, controls.seed);
  if (opts.timers ?? true) startTimers(w);

  return {
    kind: "mock",
    ...commandClient(invoke),

    async subscribeFeed(cb): Promise<Unsubscribe> {
      await latency();
      w.feedSubs.add(cb);
      return () => {
        w.feedSubs.delete(cb);
      };
    },

    async onEvent<K extends EventName>(name: K, cb: (payload: EventPayloads[K]) => void): Promise<Unsubscribe> {
      const set = w.listeners[name] as Set<(p: EventPayloads[K]) => void>;
      set.add(cb);
      return () => {
        set.delete(cb);
      };
    },

    async openAnnouncer() {
      // A browser has no second app window: open the announcer view of a demo in a new tab
      // (its own mock world), as close as a browser gets.
      if (typeof window !== "undefined") window.open(`?host=mock&scenario=demo&view=${ANNOUNCER_VIEW}`, ANNOUNCER_VIEW);
    },

    async setFullscreen(on) {
      if (typeof document === "undefined") return;
      if (on) await document.documentElement.requestFullscreen?.();
      else if (document.fullscreenElement) await document.exitFullscreen();
    },

    ...controls,
    invoke,
    get retries() {
      return w.retries;
    },
    world: w,
    get passings() {
      return w.passings;
    },

    tick(ms = 50): void {
      step(w, ms);
      flushFeed(w);
      w.emitStatus(true);
    },

    dispose(): void {
      for (const t of w.timers) clearInterval(t);
      w.timers = [];
      w.stopFeed();
      w.feedPending = () => {};
    },
  };
}
