// Layout check that runs inside the page: finds panels, tables and controls that are clipped or
// overflow sideways. Plain JS, no Playwright API: `findLayoutProblems` is self-contained so it
// can be serialised with `.toString()` and run through Playwright's `page.evaluate` or a
// WebDriver `executeScript` (tauri-driver on the real app; see LAYOUT_SCRIPT).
//
// What counts as a problem:
// - "overflow": a container (section, article, aside, dialog, fieldset, table, form, main, an
//   element with a "card"/"panel" class, role dialog or alertdialog, or anything with overflow
//   hidden/auto/scroll) whose scrollWidth > clientWidth + 1 (sideways overflow; vertical
//   scrolling is fine).
//   Text cut on purpose (text-overflow: ellipsis) is accepted when the element or an ancestor
//   carries a title with the full text, and reported ("truncated") when none does.
// - "outside": a button, input or select whose box is not inside the padding box of its nearest
//   container (±1 px). Vertically only when that container does not scroll vertically.
// - "overflow" too: a cell (td, th, a child of a role="row") that does not clip and
//   whose text is wider than it, so it runs over the next cell.
// - "clipped-text": a button whose own content is wider than it (scrollWidth > clientWidth + 1).
// - "page-overflow": the document itself scrolls sideways.
// Hidden elements (no box, display/visibility hidden, .sr-only-like 1 px boxes) are skipped.

/**
 * @typedef {{ kind: "overflow" | "truncated" | "outside" | "clipped-text" | "page-overflow",
 *   screen: string, element: string, container?: string, text?: string,
 *   numbers: Record<string, number>, message: string }} LayoutProblem
 */

/**
 * Runs in the page. Returns every layout problem found on the current screen.
 * @param {{ screen?: string, tolerance?: number, root?: string } | null} [options]
 *   screen: a name for the report (default: the current nav button's test id without "nav-");
 *   tolerance: px (default 1); root: a CSS selector to check inside (default the document).
 * @returns {LayoutProblem[]}
 */
export function findLayoutProblems(options) {
  const opts = options ?? {};
  const tol = typeof opts.tolerance === "number" ? opts.tolerance : 1;
  const current = document.querySelector('nav [aria-current="page"][data-testid^="nav-"]');
  const screen = opts.screen ?? (current ? String(current.getAttribute("data-testid")).slice(4) : location.pathname);
  const root = opts.root ? document.querySelector(opts.root) : document.body;
  /** @type {LayoutProblem[]} */
  const problems = [];
  if (!root) return problems;

  const CONTAINER_TAGS = new Set(["SECTION", "ARTICLE", "ASIDE", "DIALOG", "FIELDSET", "TABLE", "FORM", "MAIN"]);
  const SCROLLS = new Set(["hidden", "auto", "scroll"]);
  const round = (/** @type {number} */ n) => Math.round(n * 10) / 10;

  /** @param {Element} el */
  const isShown = (el) => {
    if (!(el instanceof HTMLElement)) return false;
    const cs = getComputedStyle(el);
    if (cs.display === "none" || cs.visibility === "hidden" || cs.visibility === "collapse") return false;
    if (el.getClientRects().length === 0) return false;
    const r = el.getBoundingClientRect();
    // visually hidden helpers (.sr-only: 1×1 px, clipped)
    if (r.width <= 1 && r.height <= 1) return false;
    if (cs.clip !== "auto" && cs.position === "absolute") return false;
    return true;
  };

  /** @param {Element} el */
  const isContainer = (el) => {
    if (CONTAINER_TAGS.has(el.tagName)) return true;
    const role = el.getAttribute("role");
    if (role === "dialog" || role === "alertdialog") return true;
    for (const c of el.classList) if (/(^|[-_])(card|panel)([-_]|$)/i.test(c)) return true;
    const cs = getComputedStyle(el);
    return SCROLLS.has(cs.overflowX) || SCROLLS.has(cs.overflowY);
  };

  /** A short, stable name: the test id, else a tag.class path up to an ancestor with one. @param {Element} el */
  const describe = (el) => {
    /** @param {Element} e */
    const one = (e) => {
      const id = e.getAttribute("data-testid");
      if (id) return `[data-testid="${id}"]`;
      const cls = [...e.classList].filter((c) => !/^svelte-/.test(c)).slice(0, 3);
      return e.tagName.toLowerCase() + cls.map((c) => `.${c}`).join("");
    };
    const parts = [];
    /** @type {Element | null} */
    let e = el;
    while (e && e !== document.body && parts.length < 5) {
      parts.unshift(one(e));
      if (e.getAttribute("data-testid")) break;
      e = e.parentElement;
    }
    return parts.join(" > ");
  };

  /** @param {Element} el */
  const textOf = (el) => {
    const t = (el instanceof HTMLInputElement ? el.value || el.placeholder : el.textContent) ?? "";
    return t.replace(/\s+/g, " ").trim().slice(0, 60);
  };

  /** @param {HTMLElement} el */
  const paddingBox = (el) => {
    const r = el.getBoundingClientRect();
    const left = r.left + el.clientLeft;
    const top = r.top + el.clientTop;
    return { left, top, right: left + el.clientWidth, bottom: top + el.clientHeight };
  };

  // Containers that overflow sideways.
  const all = [root, ...root.querySelectorAll("*")];
  for (const el of all) {
    if (!(el instanceof HTMLElement) || !isContainer(el) || !isShown(el)) continue;
    if (el.scrollWidth <= el.clientWidth + tol) continue;
    const cs = getComputedStyle(el);
    const numbers = { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, over: el.scrollWidth - el.clientWidth };
    if (cs.textOverflow === "ellipsis" && cs.overflowX === "hidden") {
      if (el.closest('[title]:not([title=""])')) continue; // cut on purpose, the full text is one hover away
      problems.push({
        kind: "truncated",
        screen,
        element: describe(el),
        text: textOf(el),
        numbers,
        message: `text cut with an ellipsis and no title (${numbers.over} px hidden)`,
      });
      continue;
    }
    problems.push({
      kind: "overflow",
      screen,
      element: describe(el),
      numbers,
      message: `content ${el.scrollWidth} px wide in ${el.clientWidth} px (${numbers.over} px ${cs.overflowX === "visible" ? "spill out" : "clipped or scrolled sideways"})`,
    });
  }

  // Cells that are not clipped but whose text is wider than them: it spills over the next cell.
  for (const el of root.querySelectorAll('td, th, [role="row"] > *')) {
    if (!(el instanceof HTMLElement) || isContainer(el) || !isShown(el)) continue;
    if (el.scrollWidth <= el.clientWidth + tol) continue;
    const numbers = { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, over: el.scrollWidth - el.clientWidth };
    problems.push({
      kind: "overflow",
      screen,
      element: describe(el),
      text: textOf(el),
      numbers,
      message: `cell text ${el.scrollWidth} px wide in ${el.clientWidth} px (${numbers.over} px over the next cell)`,
    });
  }

  // Controls outside their container or with clipped text.
  for (const el of root.querySelectorAll("button, input, select")) {
    if (!(el instanceof HTMLElement) || !isShown(el)) continue;
    if (el instanceof HTMLInputElement && el.type === "hidden") continue;
    const r = el.getBoundingClientRect();
    if (el.tagName === "BUTTON" && el.scrollWidth > el.clientWidth + tol) {
      problems.push({
        kind: "clipped-text",
        screen,
        element: describe(el),
        text: textOf(el),
        numbers: { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, over: el.scrollWidth - el.clientWidth },
        message: `button text ${el.scrollWidth} px wide in ${el.clientWidth} px`,
      });
    }
    /** @type {HTMLElement | null} */
    let box = el.parentElement;
    while (box && !isContainer(box)) box = box.parentElement;
    if (!box) continue;
    const b = paddingBox(box);
    const cs = getComputedStyle(box);
    const checkV = !(cs.overflowY === "auto" || cs.overflowY === "scroll");
    const out = {
      left: round(b.left - r.left),
      right: round(r.right - b.right),
      top: checkV ? round(b.top - r.top) : 0,
      bottom: checkV ? round(r.bottom - b.bottom) : 0,
    };
    if (out.left > tol || out.right > tol || out.top > tol || out.bottom > tol) {
      const sides = Object.entries(out)
        .filter(([, v]) => v > tol)
        .map(([k, v]) => `${v} px past the ${k}`)
        .join(", ");
      problems.push({
        kind: "outside",
        screen,
        element: describe(el),
        container: describe(box),
        text: textOf(el),
        numbers: {
          ...out,
          x: round(r.left),
          y: round(r.top),
          width: round(r.width),
          height: round(r.height),
          boxLeft: round(b.left),
          boxRight: round(b.right),
        },
        message: `${sides} of its container`,
      });
    }
  }

  // The page itself scrolls sideways.
  const doc = document.documentElement;
  if (!opts.root && doc.scrollWidth > doc.clientWidth + tol) {
    problems.push({
      kind: "page-overflow",
      screen,
      element: "html",
      numbers: { scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, over: doc.scrollWidth - doc.clientWidth },
      message: `the page is ${doc.scrollWidth} px wide in a ${doc.clientWidth} px window`,
    });
  }
  return problems;
}

/**
 * The same check as a WebDriver script body: `driver.executeScript(LAYOUT_SCRIPT, { screen })`
 * returns the problem list (arguments[0] is the options object, may be omitted).
 */
export const LAYOUT_SCRIPT = `return (${findLayoutProblems.toString()})(arguments[0]);`;

/**
 * One line per problem, for assertion messages and logs.
 * @param {LayoutProblem[]} problems
 */
export function formatProblems(problems) {
  return problems
    .map((p) => {
      const where = p.container ? ` in ${p.container}` : "";
      const text = p.text ? ` "${p.text}"` : "";
      return `[${p.screen}] ${p.kind}: ${p.element}${text}${where}: ${p.message} ${JSON.stringify(p.numbers)}`;
    })
    .join("\n");
}
