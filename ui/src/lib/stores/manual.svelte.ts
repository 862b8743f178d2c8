// The manual-entry controller: the three modes of design.md as keyboard rules, with every
// command sent to the host in the order it was keyed (one chain), so a bunch typed fast keeps
// its finish order.
//   bib   — type bib(s), Enter records them now; Enter on an empty field records a time only.
//   time  — Space or + stamps a time; bibs typed then Enter go to the oldest waiting stamp.
//   queue — bibs typed then Enter are queued; Space or + records the first queued bib now.
// Several bibs go at once separated by commas (numpad: the . key). Ctrl+Z undoes the last
// action on the backend. Warnings (unknown bib, repeated bib) are shown, never block.

import type { Entry, Host, IpcError, Passing, Warning } from "../../ipc";
import { toIpcError } from "../../ipc";

export type ManualMode = "bib" | "time" | "queue";

export const MANUAL_MODES: { id: ManualMode; label: string; key: string; hint: string }[] = [
  {
    id: "bib",
    label: "Bib → Enter",
    key: "Alt+B",
    hint: "Type a bib (or 12,15,31) and press Enter to record it now. Enter on an empty field records a time without bib.",
  },
  {
    id: "time",
    label: "Time first",
    key: "Alt+T",
    hint: "Space or + stamps the time of a runner crossing. Then type bibs and Enter: they go to the oldest waiting time.",
  },
  {
    id: "queue",
    label: "Typed ahead",
    key: "Alt+Q",
    hint: "Type bibs of runners approaching and Enter to queue them. Space or + records the first queued bib now.",
  },
];

export interface KeyLike {
  key: string;
  code?: string;
  ctrlKey?: boolean;
  metaKey?: boolean;
  altKey?: boolean;
  shiftKey?: boolean;
}

export interface RecentAction {
  /** Unique per controller (list key). */
  id: number;
  /** What was done, in words. */
  label: string;
  /** Passings committed or changed (shown as recorded only now: the host has committed them). */
  passings: Passing[];
  at: number;
  undo?: boolean;
}

/** Normalise typed bibs: numpad "." and spaces/semicolons become commas. */
export function normaliseBibs(text: string): string {
  return text
    .split(/[\s.,;]+/)
    .map((b) => b.trim())
    .filter((b) => b.length > 0)
    .join(",");
}

export function warningText(w: Warning): string {
  return w.kind === "unknown_bib"
    ? `Bib ${w.bib} is not in the participant list`
    : `Bib ${w.bib} was already recorded as #${w.earlier_num}`;
}

export class ManualEntryController {
  mode = $state<ManualMode>("bib");
  input = $state("");
  /** Bibs waiting in the typed-ahead queue (the backend's list after each action). */
  queued = $state<string[]>([]);
  /** Warnings of the last action. */
  warnings = $state<Warning[]>([]);
  /** The last action's error. */
  error = $state<IpcError | null>(null);
  /** Commands sent and not yet answered. */
  inFlight = $state(0);
  /** Last actions, newest first. */
  recent = $state<RecentAction[]>([]);

  private chain: Promise<void> = Promise.resolve();
  private nextRecent = 1;
  private readonly now: () => number;

  constructor(
    private readonly host: Host,
    opts: { now?: () => number } = {},
  ) {
    this.now = opts.now ?? (() => Date.now());
  }

  setMode(mode: ManualMode): void {
    this.mode = mode;
    this.error = null;
  }

  setQueued(q: string[]): void {
    this.queued = q;
  }

  /** Another session became current: its history, warnings and queue start empty. */
  reset(queued: string[] = []): void {
    this.recent = [];
    this.warnings = [];
    this.error = null;
    this.queued = queued;
  }

  /**
   * Handle a key pressed in the manual input (or anywhere on the console when it has focus).
   * Returns true when the key was consumed (the caller calls preventDefault).
   */
  handleKey(k: KeyLike): boolean {
    const key = k.key;
    if ((k.ctrlKey || k.metaKey) && !k.altKey && (key === "z" || key === "Z")) {
      void this.undo();
      return true;
    }
    if (k.altKey && !k.ctrlKey) {
      const m = { b: "bib", t: "time", q: "queue" }[key.toLowerCase()] as ManualMode | undefined;
      if (m) {
        this.setMode(m);
        return true;
      }
      return false;
    }
    if (k.ctrlKey || k.metaKey) return false;
    if (key === "Enter") {
      void this.submit();
      return true;
    }
    if (key === "Escape") {
      this.input = "";
      this.error = null;
      return true;
    }
    if (this.mode !== "bib" && (key === " " || key === "Spacebar" || key === "+" || k.code === "NumpadAdd")) {
      void this.stamp();
      return true;
    }
    return false;
  }

  /** Enter: what it does depends on the mode. */
  submit(): Promise<void> {
    const text = normaliseBibs(this.input);
    if (this.mode === "bib") {
      this.input = "";
      if (!text) return this.run("Time without bib", () => this.host.manualStamp());
      return this.run(`Bib ${text}`, () => this.host.manualMark(text), text);
    }
    if (!text) return Promise.resolve();
    this.input = "";
    if (this.mode === "time") return this.run(`Assigned ${text}`, () => this.host.manualAssign(text), text);
    return this.run(`Queued ${text}`, () => this.host.manualQueue(text), text);
  }

  /** Space / +: stamp a time (time mode) or record the first queued bib (queue mode). */
  stamp(): Promise<void> {
    if (this.mode === "queue") {
      const first = this.queued[0];
      return this.run(first ? `Bib ${first} (queued)` : "Time without bib", () => this.host.manualStampQueued());
    }
    return this.run("Time stamp", () => this.host.manualStamp());
  }

  undo(): Promise<void> {
    return this.run("Undo", () => this.host.manualUndo(), undefined, true);
  }

  /** Wait until every command sent so far has been answered (tests, shutdown). */
  settled(): Promise<void> {
    return this.chain;
  }

  private run(label: string, fn: () => Promise<Entry>, typed?: string, isUndo = false): Promise<void> {
    this.inFlight++;
    const p = this.chain.then(async () => {
      try {
        const entry = await fn();
        const shown = !isUndo
          ? label
          : entry.passings.length > 0
            ? `Undone: #${entry.passings.map((p) => p.num_passing).join(", #")}`
            : "Undone: queued bibs";
        this.queued = entry.queued;
        this.warnings = entry.warnings;
        this.error = null;
        this.recent = [
          { id: this.nextRecent++, label: shown, passings: entry.passings, at: this.now(), undo: isUndo },
          ...this.recent,
        ].slice(0, 8);
      } catch (e) {
        this.error = toIpcError(e);
        this.warnings = [];
        // Give the typed text back so nothing typed is lost, unless the person typed on.
        if (typed && !this.input) this.input = typed;
      } finally {
        this.inFlight--;
      }
    });
    this.chain = p;
    return p;
  }
}
