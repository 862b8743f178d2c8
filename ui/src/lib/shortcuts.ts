// Every keyboard shortcut, declared once: the global ones (any screen) and each screen's. The
// `?` overlay (ShortcutsOverlay.svelte) lists the current screen's and the global ones from
// here; shortcuts.test.ts checks the lists against the keys the code handles.

import type { Screen } from "./app.svelte";
import { SCREENS } from "./app.svelte";
import { MANUAL_MODES } from "./stores/manual.svelte";

export interface Shortcut {
  /** The key label as shown (e.g. "Alt+S", "Space / +", "↑ ↓"). */
  keys: string;
  /** Where it applies, when not anywhere on the screen (e.g. "in the session name"). */
  where?: string;
  /** What it does, in words. */
  does: string;
}

export const GLOBAL_SHORTCUTS: Shortcut[] = [
  ...SCREENS.map((s) => ({ keys: `Alt+${s.key}`, does: `Go to ${s.label}` })),
  { keys: "Alt+M", does: "Sound on / off (saved with the settings)" },
  { keys: "?", does: "Show or hide this list (not while typing in a field)" },
  { keys: "Esc", does: "Close this list; in a confirmation: Cancel" },
];

export const SCREEN_SHORTCUTS: Record<Screen, Shortcut[]> = {
  console: [
    { keys: "F2", does: "Put the cursor in the manual input" },
    { keys: "/", does: "Search the feed (Esc in the search clears it)" },
    { keys: "↑ ↓", does: "Select the newer / older row of the feed (opens its corrections)" },
    { keys: "Esc", does: "Close the correction panel" },
    { keys: "Esc", where: "in the manual input", does: "Clear what was typed" },
    ...MANUAL_MODES.map((m) => ({ keys: m.key, does: `Manual entry mode: ${m.label}` })),
    {
      keys: "Enter",
      where: "in the manual input",
      does: "Record the bibs now (bib → Enter; empty = a time without bib), give them to the oldest waiting time (time first) or queue them (typed ahead). Numpad Enter too",
    },
    {
      keys: "Space / +",
      does: "Time first: stamp a time; typed ahead: record the first queued bib (also when the input has no focus)",
    },
    { keys: ", or numpad .", where: "in the manual input", does: "Separate several bibs" },
    { keys: "Ctrl+Z", does: "Undo the last manual action" },
    { keys: "Alt+S", does: "Start the next wave (timed at the press; you confirm next)" },
    { keys: "Alt+A", does: "Open the announcer window (the keyboard stays here)" },
    { keys: "Enter", where: "in the session name", does: "Open the session" },
    { keys: "Enter", where: "in the correction form", does: "Save the correction" },
  ],
  devices: [{ keys: "Enter", where: "in the bind form", does: "Bind the device" }],
  sessions: [{ keys: "Enter", where: "in the session name", does: "Open the session" }],
  readers: [{ keys: "Enter", where: "in the add-reader form", does: "Add the reader" }],
  settings: [{ keys: "Enter", where: "in a settings field", does: "Save the settings" }],
};

/** The shortcuts the overlay lists for a screen: the screen's own, then the global ones. */
export function shortcutsFor(screen: Screen): { title: string; items: Shortcut[] }[] {
  const label = SCREENS.find((s) => s.id === screen)?.label ?? screen;
  return [
    { title: label, items: SCREEN_SHORTCUTS[screen] },
    { title: "Everywhere", items: GLOBAL_SHORTCUTS },
  ];
}

/** Focus is in something that takes typed text (where `?` is a character, not a shortcut). */
export function isTextTarget(t: EventTarget | null): boolean {
  if (typeof HTMLElement === "undefined" || !(t instanceof HTMLElement)) return false;
  if (t.isContentEditable || t.tagName === "TEXTAREA" || t.tagName === "SELECT") return true;
  if (t.tagName !== "INPUT") return false;
  const type = (t as HTMLInputElement).type;
  return !["checkbox", "radio", "range", "button", "submit", "reset", "file", "color"].includes(type);
}

/** A global shortcut (works from any screen, also while the overlay is open): Alt+1…5, Alt+M. */
export function globalAction(e: {
  key: string;
  code?: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
}): { go: Screen } | { mute: true } | null {
  if (!e.altKey || e.ctrlKey || e.metaKey) return null;
  if (e.key.toLowerCase() === "m" || e.code === "KeyM") return { mute: true };
  const s = SCREENS.find((x) => x.key === e.key || e.code === `Digit${x.key}`);
  return s ? { go: s.id } : null;
}
