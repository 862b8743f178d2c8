// Frame-time benchmark of the console with a big feed: loads the built UI with the mock host,
// seeds 100,000 passings, sets the simulated reader to 200 reads/s, then records
// requestAnimationFrame deltas in the page for ~10 s (5 s watching the live top of the feed,
// 5 s scrolling through it) and prints p50/p95/p99 frame times as JSON. It reports; it does
// not assert. Env: BENCH_SECONDS (default 10), BENCH_SEED (100000), BENCH_RATE (200).

import { launch, serveDist } from "../e2e/harness.mjs";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const seed = Number(process.env.BENCH_SEED ?? 100_000);
const rate = Number(process.env.BENCH_RATE ?? 200);

/** @param {number[]} deltas */
function stats(deltas) {
  const s = [...deltas].sort((a, b) => a - b);
  /** @param {number} p */
  const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : null);
  /** @param {number | null} x */
  const round = (x) => (x === null ? null : Math.round(x * 100) / 100);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    frames: s.length,
    p50_ms: round(q(50)),
    p95_ms: round(q(95)),
    p99_ms: round(q(99)),
    max_ms: round(s.at(-1) ?? null),
    mean_ms: round(s.length ? sum / s.length : null),
    over_50ms: s.filter((d) => d > 50).length,
  };
}

const server = await serveDist();
const browser = await launch({ width: 1366, height: 820 });
const { page } = browser;
/** @type {string[]} */
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));
const hardStop = setTimeout(
  () => {
    console.error("bench: timed out");
    process.exit(2);
  },
  (seconds + 90) * 1000,
);

try {
  await page.goto(`${server.url}?host=mock&scenario=demo`);
  await page.waitForSelector('[data-testid="feed-row"]');
  const t0 = Date.now();
  await page.evaluate(
    ({ seed, rate }) => {
      window.__mockHost?.seed(seed);
      window.__mockHost?.setRate(rate);
    },
    { seed, rate },
  );
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-testid="feed-count"]')?.getAttribute("data-total")) >= n,
    seed,
    { timeout: 60_000 },
  );
  const seedMs = Date.now() - t0;

  const result = await page.evaluate(
    (ms) =>
      /** @type {Promise<{ live: number[], scrolling: number[], rowsInDom: number, scrollTop: number }>} */ (
        new Promise((resolve) => {
          /** @type {number[]} */
          const live = [];
          /** @type {number[]} */
          const scrolling = [];
          const viewport = document.querySelector('[data-testid="feed"]');
          let last = performance.now();
          const start = last;
          /** @param {number} now */
          function frame(now) {
            const d = now - last;
            last = now;
            const phase = now - start < ms / 2 ? live : scrolling;
            phase.push(d);
            if (phase === scrolling && viewport) viewport.scrollTop += 40; // a person scrolling down the feed
            if (now - start < ms) requestAnimationFrame(frame);
            else
              resolve({
                live,
                scrolling,
                rowsInDom: document.querySelectorAll('[data-testid="feed-row"]').length,
                scrollTop: viewport?.scrollTop ?? 0,
              });
          }
          requestAnimationFrame((now) => {
            last = now;
            requestAnimationFrame(frame);
          });
        })
      ),
    seconds * 1000,
  );
  const total = await page.locator('[data-testid="feed-count"]').textContent();
  const out = {
    benchmark: "console feed frame times",
    seeded: seed,
    reads_per_s: rate,
    seconds,
    seed_to_feed_ms: seedMs,
    feed_count_text: total?.trim().replace(/\s+/g, " "),
    rows_in_dom: result.rowsInDom,
    all: stats([...result.live, ...result.scrolling]),
    live_top: stats(result.live),
    scrolling: stats(result.scrolling),
    page_errors: errors,
    chromium: browser.context.browser()?.version() ?? "n/a",
  };
  console.log(JSON.stringify(out, null, 2));
} finally {
  clearTimeout(hardStop);
  await browser.close();
  await server.close();
}
