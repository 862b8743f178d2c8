// The manual-entry controller: the three modes of design.md as keyboard rules. A stamp (Space,
// +, Enter, the stamp button) takes its time at the key press (`Date.now()` at keydown) and is
// sent at once, without waiting for the previous stamp's answer: ten presses in 200 ms are ten
// commands in flight, each with its own time. Commands that depend on what came before (assign,
// queue, undo) wait until everything sent earlier was answered, and stamps keyed after them wait
// for them, so typed bibs still go to the right stamps.
//   bib   — type bib(s), Enter records them now; Enter on an empty field records a time only.
//   time  — Space or + stamps a time; bibs typed then Enter go to the oldest waiting stamp.
//   queue — bibs typed then Enter are queued; Space or + records the first queued bib now.
// Several bibs go at once separated by commas (numpad: the . key). Ctrl+Z undoes the last
// action on the backend. Warnings (unknown bib, repeated bib) are shown, never block.

import type { Entry, Host, IpcError, ManualResult, Passing, Warning } from "../../ipc";
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

/** An entry the backend wants confirmed (more than 50 bibs at once) before it records it. */
export interface PendingConfirmation {
  message: string;
  /** What was typed (given back on cancel). */
  typed: string;
  label: string;
  send: (confirmed: boolean) => Promise<Entry | ManualResult>;
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
  /** Why the last stamp has the host's time instead of the key press time. */
  timeWarning = $state<string | null>(null);
  /** An entry waiting for the person's confirmation (the confirm dialog shows it). */
  confirmation = $state<PendingConfirmation | null>(null);
  /** Called when an action comes back with warnings (the AppModel's tones). */
  onWarnings: ((w: Warning[]) => void) | null = null;

  /** Settles when everything sent so far has been answered. */
  private all: Promise<void> = Promise.resolve();
  /** Settles when the last order-dependent command (assign, queue, undo) was answered. */
  private barrier: Promise<void> = Promise.resolve();
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
    // The time of the key press, taken before anything else runs.
    const pressedAt = this.now();
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
      void this.submit(pressedAt);
      return true;
    }
    if (key === "Escape") {
      this.input = "";
      this.error = null;
      return true;
    }
    if (this.mode !== "bib" && (key === " " || key === "Spacebar" || key === "+" || k.code === "NumpadAdd")) {
      void this.stamp(pressedAt);
      return true;
    }
    return false;
  }

  /** Enter: what it does depends on the mode. `pressedAt`: when Enter was pressed (ms). */
  submit(pressedAt = this.now()): Promise<void> {
    const text = normaliseBibs(this.input);
    if (this.mode === "bib") {
      this.input = "";
      if (!text) return this.run("Time without bib", true, () => this.host.manualStamp(pressedAt));
      return this.run(`Bib ${text}`, true, (c) => this.host.manualMark(text, pressedAt, c), text);
    }
    if (!text) return Promise.resolve();
    this.input = "";
    if (this.mode === "time") return this.run(`Assigned ${text}`, false, (c) => this.host.manualAssign(text, c), text);
    return this.run(`Queued ${text}`, false, (c) => this.host.manualQueue(text, c), text);
  }

  /** Space / + / the stamp button: stamp a time (time mode) or record the first queued bib. */
  stamp(pressedAt = this.now()): Promise<void> {
    if (this.mode === "queue") {
      const first = this.queued[0];
      return this.run(first ? `Bib ${first} (queued)` : "Time without bib", true, () => this.host.manualStampQueued(pressedAt));
    }
    return this.run("Time stamp", true, () => this.host.manualStamp(pressedAt));
  }

  undo(): Promise<void> {
    return this.run("Undo", false, () => this.host.manualUndo(), undefined, true);
  }

  /** The person confirmed the pending entry: send it again, confirmed. */
  confirm(): Promise<void> {
    const c = this.confirmation;
    if (!c) return Promise.resolve();
    this.confirmation = null;
    return this.run(c.label, false, () => c.send(true), c.typed);
  }

  /** The person backed out: nothing is recorded and the typed text comes back. */
  cancelConfirmation(): void {
    const c = this.confirmation;
    this.confirmation = null;
    if (c && !this.input) this.input = c.typed;
  }

  /** Wait until every command sent so far has been answered (tests, shutdown). */
  async settled(): Promise<void> {
    let seen: Promise<void>;
    do {
      seen = this.all;
      await seen;
    } while (seen !== this.all);
  }

  /**
   * Send one command. A stamp (`independent`) goes as soon as the order-dependent commands
   * keyed before it were answered — never waiting for earlier stamps. Anything else waits for
   * everything sent before it, and later stamps wait for it.
   */
  private run(
    label: string,
    independent: boolean,
    send: (confirmed: boolean) => Promise<Entry | ManualResult>,
    typed?: string,
    isUndo = false,
  ): Promise<void> {
    this.inFlight++;
    const after = independent ? this.barrier : this.all;
    const p = after.then(async () => {
      try {
        const entry = await send(false);
        if ("time_warning" in entry) this.timeWarning = entry.time_warning;
        const shown = !isUndo
          ? label
          : entry.passings.length > 0
            ? `Undone: #${entry.passings.map((p) => p.num_passing).join(", #")}`
            : "Undone: queued bibs";
        this.queued = entry.queued;
        this.warnings = entry.warnings;
        if (entry.warnings.length > 0) this.onWarnings?.(entry.warnings);
        this.error = null;
        this.recent = [
          { id: this.nextRecent++, label: shown, passings: entry.passings, at: this.now(), undo: isUndo },
          ...this.recent,
        ].slice(0, 8);
      } catch (e) {
        const err = toIpcError(e);
        if (err.code === "confirmation_required" && typed) {
          // More than 50 bibs at once: ask, then send again confirmed (or give the text back).
          this.confirmation = { message: err.message, typed, label, send };
          this.error = null;
          return;
        }
        this.error = err;
        this.warnings = [];
        // Give the typed text back so nothing typed is lost, unless the person typed on.
        if (typed && !this.input) this.input = typed;
      } finally {
        this.inFlight--;
      }
    });
    const all = this.all;
    this.all = Promise.all([all, p]).then(() => undefined);
    if (!independent) this.barrier = p;
    return p;
  }
}
