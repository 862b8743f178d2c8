// The mock's race: per-session start logs (start, exact, nudge, restart — a wave that started
// is started again only by a restart), race times since a runner's wave start, the bib preview
// with its status, counts and the "not yet seen" list — as timing-core's starts and runners.

import type { RaceCommands, RaceView, RunnerPreview, StartInput, WaveView } from "../bindings.gen";
import { isoUtc } from "./data";
import { err, type MockWorld } from "./world";

/** The current start of each wave of a session (the newest entry wins). */
function currentStarts(w: MockWorld, sessionId: number): Map<string, { at: string; kind: string }> {
  const out = new Map<string, { at: string; kind: string }>();
  for (const s of w.starts) if (s.session_id === sessionId) out.set(s.wave, { at: s.at, kind: s.kind });
  return out;
}

/** Milliseconds since the wave's start (the one start when the list has no waves). */
export function raceTimeMs(w: MockWorld, sessionId: number, wave: string, at: string): number | null {
  const starts = currentStarts(w, sessionId);
  const start = starts.get(wave) ?? (starts.size === 1 && starts.has("") ? starts.get("") : undefined);
  return start ? Date.parse(at) - Date.parse(start.at) : null;
}

function waves(w: MockWorld): string[] {
  const set = new Set<string>();
  for (const ru of w.participants.values()) set.add(ru.wave);
  if (set.size === 0) set.add("");
  return [...set].sort();
}

/** Bibs with a passing in the session (void ones do not count). */
function seen(w: MockWorld, sessionId: number): Set<string> {
  const out = new Set<string>();
  for (const p of w.bySession.get(sessionId) ?? []) if (p.eff_bib && !p.voided) out.add(p.eff_bib);
  return out;
}

export function raceView(w: MockWorld): RaceView {
  const s = w.currentSession();
  const starts = s ? currentStarts(w, s.id) : new Map();
  const names = waves(w);
  for (const wave of starts.keys()) if (!names.includes(wave)) names.push(wave);
  const people = [...w.participants.values()];
  const list: WaveView[] = names.map((wave) => ({
    wave,
    label: wave === "" ? "Race" : wave,
    runners: people.filter((p) => p.wave === wave).length,
    start_at: starts.get(wave)?.at ?? null,
    start_kind: starts.get(wave)?.kind ?? null,
  }));
  let counts: RaceView["counts"] = null;
  if (s) {
    const done = seen(w, s.id);
    const finished = people.filter((p) => done.has(p.bib)).length;
    const unknown = w.participants.size ? [...done].filter((b) => !w.participants.has(b)).length : 0;
    counts = { listed: people.length, finished, on_course: people.length - finished, unknown };
  }
  return {
    session_id: s?.id ?? null,
    waves: list,
    log: s ? w.starts.filter((x) => x.session_id === s.id).map(({ session_id: _, ...rest }) => rest) : [],
    counts,
  };
}

/** Records a start the way timing-core plans it. */
export function recordStart(w: MockWorld, wave: string, how: StartInput): void {
  const s = w.currentSession();
  if (!s || !w.isRecording(s)) throw err("conflict", "no session is recording: open one before the start");
  const label = wave === "" ? "the start" : `wave ${wave}`;
  const current = currentStarts(w, s.id).get(wave);
  const pressed = (p: number | string | null) => (p === null ? w.now() : typeof p === "number" ? p : Date.parse(p));
  let kind: string;
  let at: number;
  switch (how.kind) {
    case "now":
      if (current) throw err("conflict", `${label} has started: restart it after a false start`);
      [kind, at] = ["stamp", pressed(how.pressed_at)];
      break;
    case "restart":
      if (!current) throw err("conflict", `${label} has not started: start it first`);
      [kind, at] = ["restart", pressed(how.pressed_at)];
      break;
    case "exact":
      at = Date.parse(how.at);
      if (Number.isNaN(at)) throw err("invalid", `at: \`${how.at}\` is not a time`);
      kind = "exact";
      break;
    case "nudge":
      if (!current) throw err("conflict", `${label} has not started: start it first`);
      if (!Number.isFinite(how.seconds) || how.seconds === 0 || Math.abs(how.seconds) > 3600)
        throw err("invalid", `seconds: a nudge is a few seconds, not ${how.seconds}`);
      [kind, at] = ["nudge", Date.parse(current.at) + Math.round(how.seconds * 1000)];
      break;
  }
  w.starts.push({
    session_id: s.id,
    wave,
    at: isoUtc(at),
    kind,
    source: null,
    operator: w.settings.operator || "console",
    recorded_at: isoUtc(w.now()),
  });
  // Every race time shown may have changed: the next batch says so.
  w.reread = true;
  w.feedPending();
}

export function raceHandlers(w: MockWorld): RaceCommands {
  return {
    async race_state() {
      return raceView(w);
    },
    async race_start({ wave, how }) {
      recordStart(w, wave.trim(), how);
      return raceView(w);
    },
    async runner_preview({ bib }) {
      const b = bib.trim();
      const ru = w.participants.get(b);
      const s = w.currentSession();
      let status: RunnerPreview["status"];
      if (w.participants.size === 0) status = "no_list";
      else if (!ru) status = "unknown";
      else if (s && seen(w, s.id).has(b)) status = "finished";
      else {
        const starts = s ? currentStarts(w, s.id) : new Map();
        status = starts.size > 0 && !starts.has(ru.wave) ? "not_started" : "known";
      }
      return { bib: b, name: ru?.name ?? null, category: ru?.category ?? null, wave: ru?.wave ?? null, status };
    },
    async runners_not_seen({ search, limit }) {
      const s = w.currentSession();
      if (!s) throw err("no_open_session", "no session is open: open a session first");
      const done = seen(w, s.id);
      const q = search.trim().toLowerCase();
      return [...w.participants.values()]
        .filter((p) => !done.has(p.bib))
        .filter((p) => !q || p.bib.startsWith(q) || p.name.toLowerCase().includes(q) || (p.category ?? "").toLowerCase() === q)
        .sort((a, b) => Number(a.bib) - Number(b.bib) || a.bib.localeCompare(b.bib))
        .slice(0, Math.max(1, limit))
        .map((p) => ({ bib: p.bib, name: p.name || null, category: p.category, wave: p.wave }));
    },
  };
}
