// Layout test of the built UI against the mock host in Debian's chromium: at 1280×720, 1366×768
// and 1920×1080, UI scale 100 % and 150 %, day and night theme, every screen (and its opened
// states: a correction, the reader time form, a confirmation, a reconcile report, raw frames)
// has no panel, table or control clipped or overflowing sideways (e2e/layout.mjs). Also the
// first-run Console and Devices screens (bind panel), a refused bind, and a Devices table with
// several bound devices.
// Scale and theme are set as a user does: on the Settings screen, saved.

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import { launch, serveDist } from "./harness.mjs";
import { findLayoutProblems, formatProblems } from "./layout.mjs";

const VIEWPORTS = [
  { width: 1280, height: 720 },
  { width: 1366, height: 768 },
  { width: 1920, height: 1080 },
];
const SCALES = [1, 1.5];
/** @type {("day" | "night")[]} */
const THEMES = ["day", "night"];

/** @type {{ url: string, close: () => Promise<unknown> }} */
let server;
/** @type {Awaited<ReturnType<typeof launch>>} */
let browser;
/** @type {import("playwright-core").Page} */
let page;
/** @type {string[]} */
const pageErrors = [];
/** Every problem found, by combination (LAYOUT_REPORT=file.json writes them out). */
/** @type {Record<string, import("./layout.mjs").LayoutProblem[]>} */
const report = {};

/** @param {string} id */
const tid = (id) => `[data-testid="${id}"]`;

before(async () => {
  server = await serveDist();
  browser = await launch({ width: 1366, height: 768 });
  page = browser.page;
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(m.text());
  });
});

after(async () => {
  if (process.env.LAYOUT_REPORT) await writeFile(process.env.LAYOUT_REPORT, JSON.stringify(report, null, 2));
  await browser?.close();
  await server?.close();
});

/** Let the layout settle (two frames). */
async function settle() {
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok(undefined)))));
}

/** Run the in-page check and return what it found. @param {string} screen */
async function measure(screen) {
  await settle();
  return page.evaluate(findLayoutProblems, { screen });
}

/** Scale and theme through the Settings screen, saved (as a user does). @param {number} scale @param {string} theme */
async function applyDisplay(scale, theme) {
  await page.locator(tid("nav-settings")).click();
  await page.locator(tid("settings-theme")).selectOption(theme);
  await page.locator(tid("settings-scale")).fill(String(scale));
  await page.locator(tid("settings-save")).click();
  await page.waitForFunction(
    ([t, px]) => document.documentElement.dataset.theme === t && document.documentElement.style.fontSize === px,
    [theme, `${16 * scale}px`],
  );
}

/** @param {string} screen @param {string} ready a selector the screen shows once loaded */
async function go(screen, ready) {
  await page.locator(tid(`nav-${screen}`)).click();
  await page.locator(ready).first().waitFor();
}

/**
 * Every screen of the demo scenario and its opened states.
 * @returns {Promise<import("./layout.mjs").LayoutProblem[]>}
 */
async function demoScreens() {
  const found = [];

  await go("console", tid("session-state"));
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="feed-row"]').length >= 3);
  found.push(...(await measure("console")));
  // A correction open below the feed, the reader time form open in the tiles.
  await page.locator(`${tid("feed-row")}[aria-rowindex="1"]`).click();
  await page.locator(tid("correct-reason")).waitFor();
  for (const d of await page.locator(`${tid("reader-time-settings")} > summary`).all()) await d.click();
  found.push(...(await measure("console (correction, reader time)")));
  await page.locator(tid("correct-close")).click();

  await go("devices", tid("device-list"));
  await page.locator(tid("device-cloud-list")).waitFor();
  found.push(...(await measure("devices")));
  await page.locator(tid("device-unbind")).first().click();
  await page.locator(tid("confirm-dialog")).waitFor();
  found.push(...(await measure("devices (unbind confirmation)")));
  await page.locator(tid("confirm-cancel")).click();
  // Binding another device while a session is open: refused, with the reason under the form.
  await page.locator(tid("bind-serial")).fill("TC-LAPTOP-FINISH-LINE-0002");
  await page.locator(tid("bind-submit")).click();
  await page.locator(tid("bind-error")).waitFor();
  found.push(...(await measure("devices (bind error)")));

  await go("sessions", tid("session-details"));
  await page.locator(tid("session-reconcile")).click();
  await page.locator(tid("reconcile-report")).waitFor();
  found.push(...(await measure("sessions (reconcile)")));

  await go("readers", tid("reader-list"));
  found.push(...(await measure("readers")));
  await page.locator(tid("reader-frames-toggle")).first().click();
  await page.locator(tid("reader-frames")).waitFor();
  found.push(...(await measure("readers (raw frames)")));

  await go("settings", tid("settings-save"));
  found.push(...(await measure("settings")));
  await page.locator('input[type="radio"][value="custom"]').check();
  await page.locator(tid("settings-api-url")).waitFor();
  found.push(...(await measure("settings (custom API URL)")));
  return found;
}

/**
 * First run: the Devices screen with its bind panel; then several devices bound (long names),
 * the table of them.
 * @returns {Promise<import("./layout.mjs").LayoutProblem[]>}
 */
async function firstRunDevices() {
  const found = [];
  await go("console", tid("session-state"));
  found.push(...(await measure("console (first run)")));
  await go("devices", tid("bind-serial"));
  found.push(...(await measure("devices (first run)")));
  await page.evaluate(async () => {
    /** @type {any} */
    const host = window.__mockHost;
    await host.apiKeySet("e2e-layout-key-0001");
    for (const [serial, alias] of [
      ["RUFUS-CB-0042", "Finish box"],
      ["TC-LAPTOP-FINISH-LINE-0002", "Finish line backup laptop (gantry, left side)"],
      ["TC-LAPTOP-03", null],
    ]) {
      await host.deviceBind({ serial_number: serial, model: "Timing Console", device_type: "custom", alias, firmware: null });
    }
  });
  // The last one through the form, so the status (current device) follows as it does for a user.
  await go("console", tid("session-state"));
  await go("devices", tid("device-list"));
  await page.locator(tid("bind-serial")).fill("TC-LAPTOP-01");
  await page.locator(tid("bind-alias")).fill("Laptop A at the 5 km split");
  await page.locator(tid("bind-firmware")).fill("0.1.0-rc.2+build.20260412");
  await page.locator(tid("bind-submit")).click();
  await page.locator(tid("bind-result")).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="device-list"] tbody tr').length >= 4);
  found.push(...(await measure("devices (several devices)")));
  return found;
}

for (const vp of VIEWPORTS) {
  for (const scale of SCALES) {
    for (const theme of THEMES) {
      const name = `${vp.width}×${vp.height} at ${scale * 100} % ${theme}`;
      test(`no clipped or overflowing panel or control: ${name}`, { timeout: 90_000 }, async () => {
        await page.setViewportSize(vp);
        await page.goto(`${server.url}?host=mock&scenario=demo`);
        await applyDisplay(scale, theme);
        const found = await demoScreens();

        await page.goto(`${server.url}?host=mock`);
        await applyDisplay(scale, theme);
        found.push(...(await firstRunDevices()));

        report[name] = found;
        assert.deepEqual(pageErrors, []);
        assert.equal(found.length, 0, `${found.length} layout problems at ${name}:\n${formatProblems(found)}`);
      });
    }
  }
}

test("the check itself finds a clipped panel, a button outside its card and clipped button text", {
  timeout: 30_000,
}, async () => {
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.goto(`${server.url}?host=mock&scenario=demo`);
  await go("devices", tid("device-list"));
  await page.locator(tid("device-cloud-list")).waitFor();
  assert.deepEqual(await measure("devices"), []);
  // Break the layout on purpose: a card too narrow for its table, a button pushed out of its
  // card, a button too narrow for its label.
  await page.evaluate(() => {
    const card = /** @type {HTMLElement} */ (document.querySelector('[data-testid="device-list"]')?.closest("section"));
    card.style.width = "12rem";
    card.style.overflow = "hidden";
    const refresh = /** @type {HTMLElement} */ (
      document.querySelector('[data-testid="device-cloud-list"]')?.closest("section")?.querySelector("button")
    );
    refresh.style.position = "relative";
    refresh.style.left = "20rem";
    const select = /** @type {HTMLElement} */ (document.querySelector('[data-testid="device-unbind"]'));
    select.style.width = "2rem";
    select.style.whiteSpace = "nowrap";
  });
  const found = await measure("devices (broken on purpose)");
  const text = formatProblems(found);
  assert.ok(
    found.some((p) => p.kind === "overflow" && /section\.card/.test(p.element) && p.numbers.clientWidth < 200),
    `the narrow card:\n${text}`,
  );
  assert.ok(
    found.some((p) => p.kind === "outside" && p.text === "Refresh" && p.numbers.right > 0),
    `the button out of its card:\n${text}`,
  );
  assert.ok(
    found.some((p) => p.kind === "clipped-text" && p.element.includes("device-unbind")),
    `the clipped label:\n${text}`,
  );
  // The same function, serialised as a WebDriver script would send it, finds the same.
  const again = await page.evaluate(`(${findLayoutProblems.toString()})({ screen: "devices (broken on purpose)" })`);
  assert.deepEqual(again, found);
});

test("the check itself finds a feed cell whose text runs over the next cell", { timeout: 30_000 }, async () => {
  await page.setViewportSize({ width: 1366, height: 768 });
  await page.goto(`${server.url}?host=mock&scenario=demo`);
  await page.locator(tid("feed-race-time")).first().waitFor();
  assert.deepEqual(
    (await measure("console")).filter((p) => p.element.includes("feed")),
    [],
  );
  // A race time far longer than its column (the mock keeps delivering, so stop it first).
  await page.evaluate(() => {
    window.__mockHost?.setRate(0);
    const cell = /** @type {HTMLElement} */ (document.querySelector('[data-testid="feed-race-time"]'));
    cell.textContent = "123:45:67.8 123:45:67.8";
  });
  const found = await measure("console (broken on purpose)");
  assert.ok(
    found.some((p) => p.kind === "overflow" && p.element.includes("feed-race-time") && /over the next cell/.test(p.message)),
    `the long race time:\n${formatProblems(found)}`,
  );
});
