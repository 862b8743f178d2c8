// Mock host tests: it must behave like the real backend's contract (bindings.gen.ts) so the
// UI tests mean something: bind with serial lookup, unbind confirmation, error codes, the
// simulated reader, sync draining, corrections (in place vs carrier), reconcile and re-home.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FeedBatch, FeedEntry } from "../bindings.gen";
import { createMockHost, type MockHost } from "./index";

let t = Date.UTC(2026, 4, 10, 9, 0, 0);
let host: MockHost;
let batches: FeedBatch[];

const bindInput = (serial: string) => ({
  serial_number: serial,
  model: "Timing Console",
  device_type: "custom",
  alias: null,
  firmware: null,
  take_over: false,
});

async function rejects(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error("expected a rejection");
}

function advance(ms: number, step = 50): void {
  for (let done = 0; done < ms; done += step) {
    t += step;
    host.tick(step);
  }
}

beforeEach(async () => {
  t = Date.UTC(2026, 4, 10, 9, 0, 0);
  host = createMockHost({ timers: false, rate: 0, now: () => t });
  batches = [];
  await host.subscribeFeed((b) => batches.push(b));
});
afterEach(() => host.dispose());

describe("issue 8: failures that show and heal, confirmations", () => {
  it("binding a device another console has in use asks first; take_over continues its session", async () => {
    await host.apiKeySet("key-12345678");
    const token = host.openElsewhere("TC-LAPTOP-01", 57);
    const e = await rejects(host.deviceBind(bindInput("TC-LAPTOP-01")));
    expect(e.code).toBe("confirmation_required");
    expect(e.message).toMatch(/in use by another console.*57 passings.*take over/);
    await host.deviceBind({ ...bindInput("TC-LAPTOP-01"), take_over: true });
    const st = await host.appState();
    expect(st.session).toMatchObject({ token_session: token, state: "active", next_num_passing: 58 });
    const entry = await host.manualMark("5", t);
    expect(entry.passings[0].num_passing).toBe(58);
  });

  it("more than 50 bibs need confirmed; stamps keep a plausible key press time", async () => {
    await host.sessionOpen(null);
    const many = Array.from({ length: 51 }, (_, i) => String(i + 1)).join(",");
    expect(await rejects(host.manualMark(many, t))).toMatchObject({ code: "confirmation_required" });
    expect(await rejects(host.manualQueue(many))).toMatchObject({ code: "confirmation_required" });
    expect((await host.manualMark(many, t, true)).passings).toHaveLength(51);
    const ok = await host.manualStamp(t - 1500);
    expect(ok).toMatchObject({ time_warning: null });
    expect(ok.passings[0].timestamp).toBe(new Date(t - 1500).toISOString());
    expect((await host.manualStamp(t + 60_000)).time_warning).toMatch(/ahead/);
    expect((await host.manualStampQueued(t - 600_000)).time_warning).toMatch(/too old/);
  });

  it("retry now resumes a pause once the account accepts the key; parked passings are re-sent", async () => {
    await host.apiKeySet("key-12345678");
    await host.deviceBind(bindInput("NEW-1"));
    await host.sessionOpen(null);
    advance(500);
    await host.manualMark("TOOLONGBIB1", t); // the cloud refuses it: parked
    advance(1000);
    expect((await host.appState()).sync.parked).toBe(1);
    expect(await host.syncRetryParked(null)).toBe(1);
    expect((await host.appState()).sync).toMatchObject({ parked: 0, pending: 1 });
    host.failSync("forbidden");
    await host.syncRetry();
    expect((await host.appState()).sync.stopped).toMatch(/403/); // still refused
    host.restoreAccess();
    await host.syncRetry();
    expect((await host.appState()).sync.stopped).toBeNull();
    expect(host.retries).toBe(2);
  });

  it("failing commits are reported with the reads waiting, and the reads are kept", async () => {
    const h = createMockHost({ timers: false, rate: 50, now: () => t });
    const seen: { last_error: string | null; queued: number }[] = [];
    await h.onEvent("capture", (c) => seen.push(c));
    await h.sessionOpen(null);
    h.failCommits("database or disk is full");
    for (let i = 0; i < 20; i++) {
      t += 50;
      h.tick(50);
    }
    const st = await h.appState();
    expect(st.capture.last_error).toMatch(/disk is full/);
    expect(st.capture.queued).toBeGreaterThan(0);
    expect(seen.at(-1)?.queued).toBe(st.capture.queued);
    const waiting = st.capture.queued;
    h.failCommits(null);
    expect((await h.appState()).capture).toEqual({ last_error: null, queued: 0 });
    expect((await h.feedPage(null, 1000)).length).toBeGreaterThan(0); // the waiting reads were committed
    expect(waiting).toBeGreaterThan(0);
    h.dispose();
  });
});

describe("devices", () => {
  it("needs an API key to bind", async () => {
    expect(await rejects(host.deviceBind(bindInput("X")))).toMatchObject({ code: "no_api_key" });
  });

  it("records before the first bind, and binding adopts that session (first run)", async () => {
    const session = await host.sessionOpen("first run");
    await host.manualMark("5", t);
    expect((await host.appState()).device?.deviceid).toMatch(/^local-/);
    await host.apiKeySet("key-12345678");
    const device = await host.deviceBind(bindInput("FIRST-1"));
    const state = await host.appState();
    expect(state.device?.deviceid).toBe(device.deviceid);
    expect(state.session?.id).toBe(session.id);
    expect(state.session?.deviceid).toBe(device.deviceid);
  });

  it("reuses the account device with the same serial, else creates one", async () => {
    await host.apiKeySet("key-12345678");
    const reused = await host.deviceBind(bindInput("TC-LAPTOP-01"));
    expect(reused.deviceid).toBe("dv_19c04455");
    const fresh = await host.deviceBind(bindInput("NEW-SERIAL"));
    expect(fresh.deviceid).not.toBe("dv_19c04455");
    const cloud = await host.deviceCloudList();
    expect(cloud.filter((d) => d.bound_here).map((d) => d.serial_number)).toEqual(["TC-LAPTOP-01", "NEW-SERIAL"]);
  });

  it("unbind asks for confirmation in words, then deletes", async () => {
    await host.apiKeySet("key-12345678");
    const d = await host.deviceBind(bindInput("TC-LAPTOP-01"));
    const e = await rejects(host.deviceUnbind(d.deviceid, false));
    expect(e.code).toBe("confirmation_required");
    expect(e.message).toMatch(/deletes .* sessions and .* passings/);
    await host.deviceUnbind(d.deviceid, true);
    expect(await host.deviceList()).toEqual([]);
    expect((await host.appState()).device).toBeNull();
  });
});

describe("sessions, reader and sync", () => {
  beforeEach(async () => {
    await host.apiKeySet("key-12345678");
    await host.deviceBind(bindInput("TC-LAPTOP-01"));
  });

  it("opens at once (opening), becomes active when the cloud answers, closes after draining", async () => {
    const s = await host.sessionOpen("Race");
    expect(s.state).toBe("opening");
    expect(await rejects(host.sessionOpen("Again"))).toMatchObject({ code: "invalid" });
    advance(400);
    expect((await host.appState()).session?.state).toBe("active");
    host.seed(30, "pending");
    const closing = await host.sessionClose();
    expect(closing.state).toBe("closing");
    advance(500);
    const after = (await host.appState()).session;
    expect(after?.state).toBe("closed");
    expect((await host.sessionDetails(s.id)).outbox).toMatchObject({ pending: 0, sent: 30 });
  });

  it("the simulated reader produces passings at the set rate, with duplicates flagged not recorded", async () => {
    await host.sessionOpen("Race");
    host.setRate(20);
    advance(5000);
    const entries = batches.flatMap((b) => b.entries);
    const raw = batches.reduce((a, b) => a + b.raw_reads, 0);
    const dups = batches.reduce((a, b) => a + b.duplicates, 0);
    expect(raw).toBeGreaterThan(40);
    expect(raw).toBeLessThan(220);
    expect(dups).toBeGreaterThan(0);
    const ids = new Set(entries.filter((e) => e.source === "reader").map((e) => e.id));
    expect(ids.size).toBe(raw - dups);
    const st = await host.appState();
    expect(st.readers[0].reads).toBe(raw);
  });

  it("sync drains pending to sent, shows a backlog while offline, and stops on a 401", async () => {
    await host.sessionOpen("Race");
    advance(400);
    host.setOnline(false);
    host.seed(200, "pending");
    advance(500);
    let sync = (await host.appState()).sync;
    expect(sync.pending).toBe(200);
    expect(sync.last_error_code).toBe("timeout");
    host.setOnline(true);
    host.setSyncRate(400);
    advance(250);
    sync = (await host.appState()).sync;
    expect(sync.pending).toBe(100);
    expect(sync.sent).toBe(100);
    advance(500);
    sync = (await host.appState()).sync;
    expect(sync).toMatchObject({ pending: 0, sent: 200, last_error: null });
    host.failSync("unauthorized");
    host.seed(5, "pending");
    advance(500);
    sync = (await host.appState()).sync;
    expect(sync.pending).toBe(5);
    expect(sync.stopped).toMatch(/401/);
  });

  it("corrects a pending passing in place and a sent one with a carrier passing", async () => {
    await host.sessionOpen("Race");
    advance(400);
    host.setOnline(false);
    await host.manualMark("12", t);
    const inPlace = await host.passingCorrect(1, { kind: "set_bib", bib: "21" }, "typo");
    expect(inPlace.carrier).toBeNull();
    expect(inPlace.correction).toMatchObject({ kind: "set_bib", old_value: "12", new_value: "21", reason: "typo" });
    host.setOnline(true);
    advance(200);
    const carried = await host.passingCorrect(1, { kind: "void" }, "double entry");
    expect(carried.carrier).toMatchObject({ status: "void #1", corrects_id: carried.correction.passing_id, num_passing: 2 });
    host.flushFeed();
    const last = batches
      .flatMap((b) => b.entries)
      .filter((e: FeedEntry) => e.num_passing === 1)
      .pop();
    expect(last).toMatchObject({ bib: "21", void: true, corrected: true });
    // carriers are not feed rows
    expect(batches.flatMap((b) => b.entries).some((e) => e.num_passing === 2)).toBe(false);
    expect(await rejects(host.passingCorrect(1, { kind: "void" }, null))).toMatchObject({ code: "invalid" });
    expect(await rejects(host.passingCorrect(1, { kind: "set_time", time: "noon" }, null))).toMatchObject({ code: "invalid" });
    const audit = await host.passingAudit(carried.correction.passing_id);
    expect(audit.map((c) => c.kind)).toEqual(["set_bib", "void"]);
  });

  it("reconciles with the cloud and resends what it is missing", async () => {
    const s = await host.sessionOpen("Race");
    advance(400);
    host.seed(50, "pending");
    advance(500);
    const lost = host.loseInCloud(3);
    const rep = await host.sessionReconcile(s.id);
    expect(rep).toMatchObject({ local: 50, cloud: 47, missing_in_cloud: lost, pending: [] });
    expect(await host.sessionResendMissing(s.id)).toBe(3);
    advance(200);
    expect((await host.sessionReconcile(s.id)).missing_in_cloud).toEqual([]);
  });

  it("re-homes pending passings of a session closed remotely", async () => {
    const s = await host.sessionOpen("Race");
    advance(400);
    host.setOnline(false);
    host.seed(10, "pending");
    host.closeRemotely();
    const st = await host.appState();
    expect(st.session?.state).toBe("closed_remotely");
    expect(st.sync.closed_remotely).toEqual([s.id]);
    expect(await host.sessionRehome(s.id)).toBe(10);
    const after = await host.appState();
    expect(after.session?.id).not.toBe(s.id);
    expect(after.sync.closed_remotely).toEqual([]);
    const page = await host.feedPage(null, 100);
    expect(page).toHaveLength(10);
  });

  it("feed_page pages backwards by num_passing", async () => {
    await host.sessionOpen("Race");
    host.seed(25);
    const last = await host.feedPage(null, 10);
    expect(last.map((e) => e.num_passing)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    const before = await host.feedPage(16, 10);
    expect(before[0].num_passing).toBe(6);
    expect((await host.feedPage(6, 10)).map((e) => e.num_passing)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe("readers, participants, settings", () => {
  it("adds readers from spec strings and refuses bad ones", async () => {
    const r = await host.readerAdd("mat", "serial:/dev/ttyUSB0?protocol=ipico&baud=9600");
    expect(r).toMatchObject({ protocol: "ipico", state: "connecting" });
    expect(await rejects(host.readerAdd("mat", "tcp:x:1?protocol=ultra"))).toMatchObject({ code: "invalid" });
    expect(await rejects(host.readerAdd("bad", "usb:whatever"))).toMatchObject({ code: "invalid" });
    expect(await rejects(host.readerAdd("bad2", "tcp:host?protocol=ultra"))).toMatchObject({ code: "invalid" });
    await new Promise((res) => setTimeout(res, 5));
    expect((await host.appState()).readers.find((x) => x.name === "mat")?.state).toBe("quiet");
    const stopped = await host.readerStop("mat");
    expect(stopped.state).toBe("stopped");
    await host.readerRemove("mat");
    expect(await rejects(host.readerFrames("mat"))).toMatchObject({ code: "not_found" });
  });

  it("imports participants with a report of rejected rows", async () => {
    const csv = "bib,name,chip\n1,Ana,E2801170AA\n,No bib,\n2,Bea,nothex!\n1,Dup,\n3,Carla,\n";
    const rep = await host.participantsImport(new TextEncoder().encode(csv));
    expect(rep.accepted).toBe(2);
    expect(rep.rejected.map(([line]) => line)).toEqual([3, 4, 5]);
  });

  it("decodes the file's raw bytes as the backend does (Windows-1252, UTF-16 with a BOM)", async () => {
    const latin1 = Uint8Array.from(
      [..."bib;name;chip\n7;M", 0xfc, ..."ller;E2801170AB\n"].map((c) => (typeof c === "number" ? c : c.charCodeAt(0))),
    );
    expect((await host.participantsImport(latin1)).accepted).toBe(1);
    const text = "bib,name,chip\n8,Zoë,E2801170AC\n";
    const utf16 = new Uint8Array(2 + text.length * 2);
    utf16.set([0xff, 0xfe]);
    for (let i = 0; i < text.length; i++) utf16[2 + i * 2] = text.charCodeAt(i);
    expect((await host.participantsImport(utf16)).accepted).toBe(1);
  });

  it("validates settings", async () => {
    const st = await host.appState();
    expect(await rejects(host.settingsSet({ ...st.settings, scale: 3 }))).toMatchObject({ code: "invalid" });
    const lan = await rejects(host.settingsSet({ ...st.settings, api_url: "http://192.168.1.50/v0" }));
    expect(lan).toMatchObject({ code: "invalid" });
    expect(lan.message).toMatch(/^api_url:/);
    expect((await host.appState()).settings.api_url).toBe(st.settings.api_url); // nothing kept
    const local = await host.settingsSet({ ...st.settings, api_url: "http://127.0.0.1:8787/v0/" });
    expect(local.api_url).toBe("http://127.0.0.1:8787/v0");
    for (const bad of ["ror-abc def123456", "ror-clé1234567890"]) {
      const e = await rejects(host.apiKeySet(bad));
      expect(e.code).toBe("invalid");
      expect(e.message).toMatch(/^api_key:/);
    }
    expect((await host.appState()).key.kind).toBe("none");
    const saved = await host.settingsSet({ ...st.settings, theme: "night", scale: 1.25 });
    expect(saved).toMatchObject({ theme: "night", scale: 1.25 });
  });

  it("export_csv needs a session and returns the path written", async () => {
    expect(await rejects(host.exportCsv("passings"))).toMatchObject({ code: "no_open_session" });
  });
});

describe("updates", () => {
  it("are off by default: status says so, install refuses, no event", async () => {
    const seen: unknown[] = [];
    await host.onEvent("update", (u) => seen.push(u));
    expect(await host.updateStatus()).toMatchObject({ enabled: false, available: null, can_install: false });
    expect(await rejects(host.updateInstall())).toMatchObject({ code: "updates_disabled" });
    advance(500);
    expect(seen).toEqual([]);
  });

  it("install only when idle: busy with the reason while a session is open or passings wait", async () => {
    const seen: { can_install: boolean }[] = [];
    await host.onEvent("update", (u) => seen.push(u));
    host.offerUpdate("0.2.0", "Notes");
    expect(seen.at(-1)).toMatchObject({ available: "0.2.0", can_install: true });
    await host.sessionOpen("10K");
    advance(100);
    expect(seen.at(-1)).toMatchObject({ can_install: false, blocked_reason: "a session is open" });
    const e = await rejects(host.updateInstall());
    expect(e.code).toBe("busy");
    expect(e.message).toMatch(/close the session and let every passing sync first/);
    host.seed(2, "pending");
    expect((await host.updateStatus()).blocked_reason).toBe("a session is open and 2 passings are waiting to be sent");
  });

  it("installs when idle, then says it is installed (restart to use it)", async () => {
    host.offerUpdate("0.2.0");
    const done = await host.updateInstall();
    expect(done).toMatchObject({ available: null, installed: "0.2.0", can_install: false });
    expect(await rejects(host.updateInstall())).toMatchObject({ code: "no_update" });
  });
});

describe("test hooks", () => {
  it("expose what the host recorded (the e2e test reads passings) and its retries", async () => {
    await host.sessionOpen(null);
    await host.manualMark("700", t);
    expect([...host.passings.values()].map((p) => [p.bib, p.num_passing])).toEqual([["700", 1]]);
    expect(host.world.passings).toBe(host.passings);
    await host.syncRetry();
    expect(host.retries).toBe(1);
  });
});
