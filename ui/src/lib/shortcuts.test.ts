// The shortcut lists the `?` overlay shows: every screen has some, the Console's name the keys
// the Console's code handles (read from its source), the global ones include Alt+1…5, Alt+M
// and `?`; the global key matcher and the text-field check.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { render } from "svelte/server";
import { describe, expect, it } from "vitest";
import { SCREENS } from "./app.svelte";
import ShortcutsOverlay from "./components/ShortcutsOverlay.svelte";
import { GLOBAL_SHORTCUTS, globalAction, SCREEN_SHORTCUTS, shortcutsFor } from "./shortcuts";

const src = (rel: string) => readFileSync(resolve(__dirname, rel), "utf8");
const labels = (list: { keys: string }[]) => list.map((s) => s.keys);

/** How a `key === "…"` literal in the code is written in the lists. */
const LABEL: Record<string, string> = {
  F2: "F2",
  "/": "/",
  Escape: "Esc",
  ArrowDown: "↑ ↓",
  ArrowUp: "↑ ↓",
  Enter: "Enter",
  " ": "Space / +",
  "+": "Space / +",
  Spacebar: "Space / +",
};

describe("shortcuts", () => {
  it("every screen has shortcuts, each with words", () => {
    for (const s of SCREENS) {
      expect(SCREEN_SHORTCUTS[s.id].length, s.id).toBeGreaterThan(0);
      for (const k of SCREEN_SHORTCUTS[s.id]) expect(k.does.length, `${s.id} ${k.keys}`).toBeGreaterThan(5);
    }
  });

  it("the Console list has the keys the Console handles", () => {
    const listed = labels(SCREEN_SHORTCUTS.console);
    for (const k of ["F2", "/", "↑ ↓", "Esc", "Alt+B", "Alt+T", "Alt+Q", "Enter", "Space / +", "Ctrl+Z", "Alt+S"]) {
      expect(listed, k).toContain(k);
    }
    // Every key literal the Console screen and the manual-entry keys compare with is listed.
    const code = src("../screens/Console.svelte") + src("./stores/manual.svelte.ts");
    const literals = [...code.matchAll(/key === "([^"]+)"/g)].map((m) => m[1]);
    expect(literals.length).toBeGreaterThan(5);
    for (const lit of literals) {
      if (lit === "z" || lit === "Z") expect(listed).toContain("Ctrl+Z");
      else expect(listed, `key "${lit}"`).toContain(LABEL[lit] ?? lit);
    }
    // The race clock's Start key.
    expect(src("./components/RaceClock.svelte")).toMatch(/altKey[^\n]*=== "s"/);
  });

  it("the global list has Alt+1…5, Alt+M and ?; no screen repeats a global Alt key", () => {
    const global = labels(GLOBAL_SHORTCUTS);
    for (const s of SCREENS) expect(global).toContain(`Alt+${s.key}`);
    expect(global).toContain("Alt+M");
    expect(global).toContain("?");
    for (const s of SCREENS) {
      for (const k of labels(SCREEN_SHORTCUTS[s.id])) {
        if (k.startsWith("Alt+")) expect(global, `${s.id} ${k}`).not.toContain(k);
      }
    }
  });

  it("the overlay lists the screen's shortcuts and the global ones, one row each", () => {
    for (const s of SCREENS) {
      const html = render(ShortcutsOverlay, { props: { screen: s.id, onclose: () => {} } }).body;
      expect(html).toContain('data-testid="shortcuts-overlay"');
      const rows = html.match(/data-testid="shortcut-row"/g) ?? [];
      expect(rows.length).toBe(SCREEN_SHORTCUTS[s.id].length + GLOBAL_SHORTCUTS.length);
      expect(shortcutsFor(s.id).map((g) => g.title)).toEqual([s.label, "Everywhere"]);
    }
  });

  it("matches the global keys", () => {
    const k = (key: string, mods: Partial<{ altKey: boolean; ctrlKey: boolean; metaKey: boolean; code: string }> = {}) => ({
      key,
      altKey: false,
      ctrlKey: false,
      metaKey: false,
      ...mods,
    });
    expect(globalAction(k("m", { altKey: true }))).toEqual({ mute: true });
    expect(globalAction(k("µ", { altKey: true, code: "KeyM" }))).toEqual({ mute: true });
    expect(globalAction(k("3", { altKey: true }))).toEqual({ go: "sessions" });
    expect(globalAction(k("m"))).toBeNull();
    expect(globalAction(k("m", { altKey: true, ctrlKey: true }))).toBeNull();
    expect(globalAction(k("s", { altKey: true }))).toBeNull(); // the Console's Start
  });
});
