// End-to-end test of the built UI against the mock host in Debian's chromium: first run,
// API key, bind a device, open a session, simulated reads in the feed, manual entry in all
// three modes with undo and warnings, a correction, the sync pill draining to pending 0,
// closing the session; one screenshot per screen (asserted non-empty). Bounded in time.
// Issue 8: take over a device another console has in use, confirm more than 50 bibs, the red
// banner while capture cannot commit, "Retry now" and "Re-send parked". Sound: a passing makes
// a tone (window.__tones), Alt+M mutes, the Settings sound section, the `?` shortcuts overlay.

import assert from "node:assert/strict";
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { launch, serveDist } from "./harness.mjs";

/** @type {{ url: string, close: () => Promise<unknown> }} */
let server;
/** @type {Awaited<ReturnType<typeof launch>>} */
let browser;
/** @type {import("playwright-core").Page} */
let page;
/** @type {string[]} */
const pageErrors = [];
let shots = "";

/** @param {string} id */
const tid = (id) => `[data-testid="${id}"]`;

/** @param {string} name */
async function screenshot(name) {
  const path = join(shots, `${name}.png`);
  await page.evaluate(() => document.querySelector("main")?.scrollTo(0, 0));
  await page.screenshot({ path });
  const { size } = await stat(path);
  assert.ok(size > 10_000, `${name}.png is ${size} bytes`);
  return path;
}

/** @param {string} text @param {string} [key] */
async function manualType(text, key = "Enter") {
  const input = page.locator(tid("manual-input"));
  await input.fill(text);
  await input.press(key);
}

/** Wait until the last manual action has been answered by the host. */
async function manualSettled() {
  await page.waitForFunction(() => !document.querySelector('[data-testid="manual-input"].busy'));
}

/** @param {string} bib */
function row(bib) {
  return page.locator(`${tid("feed-row")}[data-bib="${bib}"]`);
}

before(async () => {
  shots = process.env.E2E_SCREENSHOTS ?? (await mkdtemp(join(tmpdir(), "rufus-ui-shots-")));
  server = await serveDist();
  browser = await launch({ width: 1366, height: 820 });
  page = browser.page;
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(m.text());
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  console.log(`# screenshots in ${shots}`);
});

test("first run → key → bind → session → reads, manual entry, correction, sync, close", { timeout: 120_000 }, async () => {
  await page.goto(`${server.url}?host=mock`);

  // First run: no key, nothing bound, not recording.
  await page.locator(tid("first-run-banner")).waitFor();
  assert.equal(await page.locator(tid("recording-indicator")).getAttribute("data-state"), "not_recording");
  assert.equal(await page.locator(tid("sync-pill")).getAttribute("data-level"), "offline");
  await screenshot("01-console-first-run");

  // Settings: enter the API key once; it is stored (mock: "keychain") and shown masked.
  await page.locator(tid("nav-settings")).click();
  await page.locator(tid("settings-api-key")).fill("e2e-test-key-0001");
  await page.locator(tid("settings-save")).click();
  await page.locator(tid("settings-saved")).waitFor();
  assert.equal(await page.locator(tid("settings-key-storage")).getAttribute("data-kind"), "keychain");
  assert.equal(await page.locator(tid("first-run-banner")).count(), 0);
  await screenshot("02-settings");

  // Devices: bind with a serial the account already has → reused.
  await page.keyboard.press("Alt+2");
  await page.locator(tid("bind-serial")).fill("TC-LAPTOP-01");
  await page.locator(tid("bind-model")).fill("Timing Console");
  await page.locator(tid("bind-submit")).click();
  await page.locator(tid("bind-result")).waitFor();
  assert.equal(await page.locator(tid("bind-result")).getAttribute("data-reused"), "true");
  assert.match((await page.locator(tid("device-current")).textContent()) ?? "", /TC-LAPTOP-01/);
  await screenshot("03-devices");

  // Console: open a session.
  await page.locator(tid("nav-console")).click();
  await page.locator(tid("session-alias")).fill("E2E 10K Finish");
  await page.locator(tid("session-open")).click();
  await page.waitForSelector(`${tid("recording-indicator")}[data-state="recording"]`);
  await page.waitForSelector(`${tid("session-state")}[data-state="active"]`);

  // The simulated reader's passings appear in the feed (reader tile shows it reading).
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="feed-row"]').length >= 3, null, { timeout: 15_000 });
  assert.ok((await page.locator(tid("reader-tile")).count()) >= 1);
  // Stop the simulated reads so manual rows stay at the top of the (virtualized) feed.
  await page.evaluate(() => window.__mockHost?.setRate(0));

  // Mode 1: bib then Enter.
  await page.locator(tid("manual-mode-bib")).click();
  await manualType("12");
  await row("12").first().waitFor();
  await manualSettled();
  // A repeated bib warns, prominently, but is recorded.
  await manualType("12");
  await page.locator(tid("manual-warning")).waitFor();
  assert.match((await page.locator(tid("manual-warning")).textContent()) ?? "", /already recorded as #/);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="feed-row"][data-bib="12"]').length === 2);
  // Several bibs at once.
  await manualType("31,32");
  await row("32").waitFor();
  await row("31").waitFor();

  // Mode 2: time first — Space stamps, the bib typed after goes to that stamp.
  await page.locator(tid("manual-mode-time")).click();
  await page.locator(tid("manual-input")).press("Space");
  await page.waitForSelector(`${tid("waiting-stamps")}[data-count="1"]`);
  await manualType("501");
  await row("501").waitFor();
  await page.waitForSelector(`${tid("waiting-stamps")}[data-count="0"]`);

  // Mode 3: typed ahead — bibs queue, + records the first.
  await page.locator(tid("manual-mode-queue")).click();
  await manualType("601,602");
  await page.waitForSelector(`${tid("queued-bibs")}[data-count="2"]`);
  await page.locator(tid("manual-input")).press("+");
  await row("601").waitFor();
  await page.waitForSelector(`${tid("queued-bibs")}[data-count="1"]`);

  // Undo the last action: 601 becomes void and goes back to the head of the queue.
  await page.locator(tid("manual-undo")).click();
  await page.waitForSelector(`${tid("feed-row")}[data-bib="601"][data-void="true"]`);
  await page.waitForSelector(`${tid("queued-bibs")}[data-count="2"]`);
  // Ctrl+Z works too (undo the queue-ahead of 601,602).
  await page.locator(tid("manual-input")).press("Control+z");
  await page.waitForSelector(`${tid("queued-bibs")}[data-count="0"]`);
  await page.locator(tid("manual-mode-bib")).click();

  // A correction from the feed: 31 → 41 with a reason, then the audit trail shows it.
  await row("31").click();
  await page.locator(tid("correct-bib")).fill("41");
  await page.locator(tid("correct-reason")).fill("bib read wrong at the line");
  await page.locator(tid("correct-submit")).click();
  await row("41").waitFor();
  await page.locator(tid("correct-ok")).waitFor();
  assert.match((await page.locator(tid("correct-audit")).textContent()) ?? "", /bib read wrong at the line/);
  // Void another one.
  await row("32").click();
  await page.locator(tid("correct-reason")).fill("double entry");
  await page.locator(tid("correct-void")).click();
  await page.waitForSelector(`${tid("feed-row")}[data-bib="32"][data-void="true"]`);

  // Sync: a backlog builds while offline, then drains to pending 0.
  await page.evaluate(() => {
    window.__mockHost?.setOnline(false);
    window.__mockHost?.seed(300, "pending");
  });
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="sync-pill"]')?.getAttribute("data-pending")) >= 300,
  );
  assert.equal(await page.locator(tid("sync-pill")).getAttribute("data-level"), "failing");
  await screenshot("04-console-backlog");
  await page.evaluate(() => {
    window.__mockHost?.setSyncRate(150);
    window.__mockHost?.setOnline(true);
  });
  await page.waitForSelector(`${tid("sync-pill")}[data-pending="0"]`, { timeout: 20_000 });
  assert.ok(Number(await page.locator(tid("sync-pill")).getAttribute("data-sent")) >= 300);
  await screenshot("05-console-correction");
  await page.locator(tid("correct-close")).click();
  await page.evaluate(() => window.__mockHost?.setRate(5));
  await page.waitForTimeout(1500);
  await screenshot("06-console");

  // Other screens, for the record.
  await page.locator(tid("nav-sessions")).click();
  await page.locator(tid("session-reconcile")).click();
  await page.locator(tid("reconcile-report")).waitFor();
  await screenshot("07-sessions");
  await page.locator(tid("nav-readers")).click();
  await page.locator('[data-testid="reader-frames-toggle"]').first().click();
  await page.locator(tid("reader-frames")).waitFor();
  await screenshot("08-readers");

  // Night theme (checked by eye in the screenshot), then back to day.
  await page.locator(tid("nav-settings")).click();
  await page.locator(tid("settings-theme")).selectOption("night");
  await page.locator(tid("settings-save")).click();
  await page.waitForFunction(() => document.documentElement.dataset.theme === "night");
  await page.locator(tid("nav-console")).click();
  await page.waitForTimeout(300);
  await screenshot("09-console-night");
  await page.locator(tid("nav-settings")).click();
  await page.locator(tid("settings-theme")).selectOption("day");
  await page.locator(tid("settings-save")).click();
  await page.waitForFunction(() => document.documentElement.dataset.theme === "day");

  // Close the session (asks first), it drains and closes.
  await page.locator(tid("nav-console")).click();
  await page.locator(tid("session-close")).click();
  await page.locator(tid("confirm-dialog")).waitFor();
  await page.locator(tid("confirm-ok")).click();
  await page.waitForSelector(`${tid("recording-indicator")}:not([data-state="recording"])`);
  await page.waitForSelector(`${tid("session-state")}[data-state="closed"]`, { timeout: 20_000 });
  assert.equal(await page.locator(tid("recording-indicator")).getAttribute("data-state"), "not_recording");
  await screenshot("10-console-closed");

  assert.deepEqual(pageErrors, []);
});

test("unbind asks for confirmation and says RUFUS deletes sessions and passings", { timeout: 60_000 }, async () => {
  await page.goto(`${server.url}?host=mock&scenario=demo`);
  await page.locator(tid("nav-devices")).click();
  await page.locator(tid("device-list")).waitFor();
  // the demo device has an open session: close it first
  await page.locator(tid("nav-console")).click();
  await page.locator(tid("session-close")).click();
  await page.locator(tid("confirm-ok")).click();
  await page.waitForSelector(`${tid("session-state")}[data-state="closed"]`, { timeout: 20_000 });
  await page.locator(tid("nav-devices")).click();
  await page.locator(tid("device-unbind")).first().click();
  const msg = (await page.locator(tid("confirm-message")).textContent()) ?? "";
  assert.match(msg, /RUFUS delete/);
  assert.match(msg, /sessions and passings/);
  await page.locator(tid("confirm-cancel")).click();
  assert.equal(await page.locator(tid("confirm-dialog")).count(), 0);
  assert.match((await page.locator(tid("device-current")).textContent()) ?? "", /TC-LAPTOP-01/);
  await page.locator(tid("device-unbind")).first().click();
  await page.locator(tid("confirm-ok")).click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="device-current"]')?.getAttribute("data-deviceid") === "",
  );
  assert.deepEqual(pageErrors, []);
});

test("take-over, >50 bibs, the capture banner, retry now and re-send parked", { timeout: 90_000 }, async () => {
  await page.goto(`${server.url}?host=mock`);
  await page.locator(tid("nav-settings")).click();
  await page.locator(tid("settings-api-key")).fill("e2e-test-key-0002");
  await page.locator(tid("settings-save")).click();
  await page.locator(tid("settings-saved")).waitFor();
  // The simulated reader stays quiet from before the session opens (the host exists by now):
  // the numbers below are the manual entries' own.
  await page.evaluate(() => window.__mockHost?.setRate(0));

  // Another console has the device's session open: binding asks, and takes over when confirmed.
  await page.evaluate(() => window.__mockHost?.openElsewhere("TC-LAPTOP-01", 57));
  await page.locator(tid("nav-devices")).click();
  await page.locator(tid("bind-serial")).fill("TC-LAPTOP-01");
  await page.locator(tid("bind-submit")).click();
  await page.locator(tid("confirm-dialog")).waitFor();
  assert.match((await page.locator(tid("confirm-message")).textContent()) ?? "", /in use by another console.*57 passings/);
  await page.locator(tid("confirm-ok")).click();
  await page.locator(tid("bind-result")).waitFor();
  assert.match((await page.locator(tid("device-current")).textContent()) ?? "", /TC-LAPTOP-01/);
  await page.locator(tid("nav-console")).click();
  await page.waitForSelector(`${tid("session-state")}[data-state="active"]`);

  // More than 50 bibs in one entry: a confirmation first, then all of them.
  await page.locator(tid("manual-mode-bib")).click();
  const many = Array.from({ length: 51 }, (_, i) => String(700 + i)).join(",");
  await manualType(many);
  await page.locator(tid("confirm-dialog")).waitFor();
  assert.match((await page.locator(tid("confirm-message")).textContent()) ?? "", /51 bibs/);
  await page.locator(tid("confirm-ok")).click();
  await manualSettled();
  // What the host recorded (the feed is a virtual list: which rows are rendered depends on
  // where it is scrolled, so the numbers are read from the host, not from the DOM).
  const nums = await page.evaluate(() => {
    // `passings` is the mock host's own record, outside its control API.
    /** @type {any} */
    const host = window.__mockHost;
    return [...(host?.passings?.values() ?? [])]
      .filter((p) => p.bib === "700" || p.bib === "750")
      .map((p) => `${p.bib}:${p.num_passing}`)
      .sort();
  });
  assert.deepEqual(nums, ["700:58", "750:108"], "numbering goes on after the cloud's 57 passings");

  // Capture cannot commit: the loudest thing on screen, with the reads waiting; it heals.
  await page.evaluate(() => {
    window.__mockHost?.setRate(40);
    window.__mockHost?.failCommits("database or disk is full");
  });
  await page.locator(tid("capture-error-banner")).waitFor();
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="capture-error-banner"]')?.getAttribute("data-queued")) > 0,
  );
  assert.match((await page.locator(tid("capture-error-reason")).textContent()) ?? "", /disk is full/);
  await screenshot("11-capture-failing");
  await page.evaluate(() => {
    window.__mockHost?.failCommits(null);
    window.__mockHost?.setRate(0);
  });
  await page.waitForSelector(tid("capture-error-banner"), { state: "detached" });

  // Sync paused by a 403: the reason is shown; Retry now resumes once the account is fixed.
  await page.evaluate(() => window.__mockHost?.failSync("forbidden"));
  await page.locator(tid("sync-stopped-banner")).waitFor();
  assert.match((await page.locator(tid("sync-stopped-reason")).textContent()) ?? "", /403/);
  await page.evaluate(() => window.__mockHost?.restoreAccess());
  await page.locator(tid("sync-retry")).click();
  await page.waitForSelector(tid("sync-stopped-banner"), { state: "detached" });

  // A passing the cloud refused is parked; Re-send parked puts it back into the outbox.
  await manualType("TOOLONGBIB1");
  await page.waitForSelector(`${tid("sync-pill")}[data-parked="1"]`, { timeout: 15_000 });
  await page.locator(tid("sync-retry-parked")).click();
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-testid="notice"]')].some((n) => /1 parked passing back/.test(n.textContent ?? "")),
  );
  assert.deepEqual(pageErrors, []);
});

test("a race: waves started, race times and names in the feed, bib preview, counts, restart", { timeout: 60_000 }, async () => {
  await page.goto(`${server.url}?host=mock&scenario=demo`);
  await page.waitForSelector(`${tid("session-state")}[data-state="active"]`);
  // The demo's two waves have started: the session bar runs both clocks.
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 2, tid("race-clock-wave"));
  const first = (await page.locator(tid("race-clock-wave")).first().textContent()) ?? "";
  assert.match(first, /10K\s*0:4\d:\d\d/, "the 10K started a minute after the session opened");
  // Feed rows carry the race time since the runner's wave start.
  const rt = (await page.locator(tid("feed-race-time")).first().textContent()) ?? "";
  assert.match(rt, /^\d:\d\d:\d\d\.\d$/, `race time shown: "${rt}"`);
  // A typed bib is previewed with the runner's name before Enter.
  await page.locator(tid("manual-mode-bib")).click();
  await page.locator(tid("manual-input")).fill("");
  await page.locator(tid("manual-input")).pressSequentially("12");
  await page.waitForSelector(tid("bib-preview"));
  assert.match((await page.locator(tid("bib-preview")).textContent()) ?? "", /^12 — \S+ \S+ · [FM]\d\d · 10K/);
  // Counts and the not-yet-seen list.
  const onCourse = Number((await page.locator(`${tid("count-on-course")} b`).textContent())?.replace(/,/g, ""));
  assert.ok(onCourse > 0 && onCourse < 1500, `on course: ${onCourse}`);
  assert.ok((await page.locator(tid("unseen-row")).count()) > 0, "runners not yet seen are listed");
  // A false start: restart asks first, and the log keeps both.
  await page.locator(`${tid("race-wave")}[data-wave="5K"] ${tid("race-restart")}`).click();
  await page.locator(tid("confirm-dialog")).waitFor();
  await page.locator(tid("confirm-ok")).click();
  await page.waitForFunction(async () => {
    /** @type {any} */
    const host = window.__mockHost;
    const race = await host?.raceState();
    /** @type {{wave: string, kind: string}[]} */
    const log = race?.log ?? [];
    return (
      log
        .filter((s) => s.wave === "5K")
        .map((s) => s.kind)
        .join(",") === "stamp,restart"
    );
  });
});

test("the feed keeps its row elements: a passing on top and a scroll by a row draw one row", { timeout: 60_000 }, async () => {
  await page.goto(`${server.url}?host=mock&scenario=demo`);
  await page.waitForSelector(`${tid("session-state")}[data-state="active"]`);
  await page.evaluate(() => /** @type {any} */ (window).__mockHost.setRate(0));
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length >= 10, tid("feed-row"));
  await page.waitForTimeout(300); // the last batch has been drawn
  // Each row element keeps a note of the passing it showed; the list's elements are counted.
  const mark = () =>
    page.evaluate((sel) => {
      /** @type {any} */
      const w = window;
      w.__rows = new Map([...document.querySelectorAll(sel)].map((el) => [el, el.getAttribute("data-id")]));
    }, tid("feed-row"));
  /** How many row elements are new since mark(), and how many show another passing. */
  const changes = () =>
    page.evaluate((sel) => {
      /** @type {Map<Element, string | null>} */
      const before = /** @type {any} */ (window).__rows;
      const now = [...document.querySelectorAll(sel)];
      return {
        rows: now.length,
        created: now.filter((el) => !before.has(el)).length,
        redrawn: now.filter((el) => before.has(el) && before.get(el) !== el.getAttribute("data-id")).length,
      };
    }, tid("feed-row"));

  await page.locator(tid("manual-mode-bib")).click();
  await mark();
  const total = Number(await page.locator(tid("feed-count")).getAttribute("data-total"));
  await manualType("77");
  await page.waitForFunction(
    ([sel, n]) => Number(document.querySelector(sel)?.getAttribute("data-total")) === n,
    /** @type {[string, number]} */ ([tid("feed-count"), total + 1]),
  );
  await page.waitForSelector(`${tid("feed-row")}[data-bib="77"]`);
  const top = await changes();
  assert.equal(top.created, 0, `no row element created for a passing on top: ${JSON.stringify(top)}`);
  assert.equal(top.redrawn, 1, `only the element that left the bottom shows the new passing: ${JSON.stringify(top)}`);
  // The rows are in the page by element, not by position: each says where it is.
  assert.equal(await page.locator(`${tid("feed-row")}[data-bib="77"]`).getAttribute("aria-rowindex"), "1");

  // Down the feed (past the rows kept drawn above the view), then three rows further.
  const rowPx = await page
    .locator(tid("feed-row"))
    .first()
    .evaluate((el) => el.getBoundingClientRect().height);
  const scrollBy = (/** @type {number} */ rows) =>
    page.locator(tid("feed")).evaluate(async (el, px) => {
      el.scrollTop += px;
      await new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok)));
    }, rowPx * rows);
  await scrollBy(20);
  await mark();
  await scrollBy(3);
  const scrolled = await changes();
  assert.equal(scrolled.created, 0, `no row element created by scrolling: ${JSON.stringify(scrolled)}`);
  assert.equal(scrolled.redrawn, 3, `three rows scrolled in, three elements redrawn: ${JSON.stringify(scrolled)}`);
});

test("the announcer view shows the latest finisher's name, race time and place", { timeout: 60_000 }, async () => {
  await page.goto(`${server.url}?host=mock&scenario=demo&view=announcer`);
  await page.locator(tid("announcer-latest")).waitFor();
  const name = (await page.locator(tid("announcer-name")).textContent()) ?? "";
  assert.match(name, /^\S+ \S+$/, `a runner's name: "${name}"`);
  assert.match((await page.locator(tid("announcer-time")).textContent()) ?? "", /^\d:\d\d:\d\d$/);
  // It follows the live feed: the latest finisher changes as runners arrive.
  const first = (await page.locator(tid("announcer-latest")).getAttribute("data-bib")) ?? "";
  await page.waitForFunction(
    ([sel, bib]) => document.querySelector(sel)?.getAttribute("data-bib") !== bib,
    [tid("announcer-latest"), first],
    { timeout: 20_000 },
  );
});

test("sound: a passing makes a tone, Alt+M mutes (saved), Settings sound, the ? overlay", { timeout: 60_000 }, async () => {
  await page.goto(`${server.url}?host=mock&scenario=demo`);
  await page.waitForSelector(`${tid("session-state")}[data-state="active"]`);
  // A first gesture lets the page make sound (autoplay rules); tones are recorded either way.
  await page.locator(tid("feed-count")).click();
  await page.waitForFunction(() => (window.__tones ?? []).some((t) => t.kind === "passing"), undefined, { timeout: 15_000 });

  // Alt+M mutes at once and saves; passings keep arriving, no tone is recorded for 2 s.
  await page.keyboard.press("Alt+m");
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-testid="notice"]')].some((n) => /Sound off/.test(n.textContent ?? "")),
  );
  const total = async () => Number(await page.locator(tid("feed-count")).getAttribute("data-total"));
  const tones = () => page.evaluate(() => window.__tones?.length ?? 0);
  const [tonesBefore, totalBefore] = [await tones(), await total()];
  await page.waitForTimeout(2000);
  assert.equal(await tones(), tonesBefore, "no tone while muted");
  assert.ok((await total()) > totalBefore, "passings kept arriving while muted");
  const saved = await page.evaluate(async () => {
    /** @type {any} */
    const host = window.__mockHost;
    return (await host?.appState())?.settings?.sound;
  });
  assert.equal(saved?.muted, true, "Alt+M saved the mute");

  // Settings: the box follows Alt+M; unmute, set the volume, save; Test plays every tone once.
  await page.locator(tid("nav-settings")).click();
  assert.equal(await page.locator(tid("settings-sound-muted")).isChecked(), true);
  await page.locator(tid("settings-sound-muted")).uncheck();
  await page.locator(tid("settings-sound-volume")).evaluate((el) => {
    const range = /** @type {HTMLInputElement} */ (el);
    range.value = "40";
    range.dispatchEvent(new Event("input", { bubbles: true }));
  });
  await page.locator(tid("settings-save")).click();
  await page.locator(tid("settings-saved")).waitFor();
  const after = await page.evaluate(async () => {
    /** @type {any} */
    const host = window.__mockHost;
    return (await host?.appState())?.settings?.sound;
  });
  assert.deepEqual(after, { muted: false, volume: 0.4 });
  const testFrom = await tones();
  await page.locator(tid("settings-sound-test")).click();
  await page.waitForFunction(
    (from) => {
      const kinds = new Set((window.__tones ?? []).slice(from).map((t) => t.kind));
      return ["passing", "unknown", "repeated", "quiet", "lost", "sync"].every((k) => kinds.has(k));
    },
    testFrom,
    { timeout: 10_000 },
  );

  // `?` (focus not in a text field): the overlay lists this screen's and the global shortcuts.
  await page.keyboard.press("?");
  const overlay = page.locator(tid("shortcuts-overlay"));
  await overlay.waitFor();
  assert.equal(await overlay.getAttribute("data-screen"), "settings");
  assert.ok((await page.locator(`${tid("shortcut-row")}[data-keys="Alt+M"]`).count()) === 1);
  await page.keyboard.press("Escape");
  await overlay.waitFor({ state: "detached" });

  // On the Console the manual input has the focus: `?` is typed there, not a shortcut.
  await page.keyboard.press("Alt+1");
  await page.locator(tid("manual-input")).waitFor();
  await page.locator(tid("manual-input")).focus();
  await page.keyboard.press("?");
  assert.equal(await overlay.count(), 0);
  await page.locator(tid("manual-input")).fill("");
  await page.locator(tid("feed-count")).click();
  await page.keyboard.press("?");
  await overlay.waitFor();
  assert.equal(await overlay.getAttribute("data-screen"), "console");
  const keys = await page.locator(tid("shortcut-row")).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-keys")));
  for (const k of ["F2", "/", "Alt+S", "Ctrl+Z", "Alt+B", "Alt+1", "Alt+M", "?"])
    assert.ok(keys.includes(k), `overlay lists ${k}`);
  await screenshot("12-shortcuts-overlay");
  await page.keyboard.press("?");
  await overlay.waitFor({ state: "detached" });
  assert.deepEqual(pageErrors, []);
});
