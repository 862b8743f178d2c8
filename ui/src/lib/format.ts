// Time and number formatting for the console. Stored times are UTC RFC 3339 strings;
// Settings.time_display decides whether they are shown in UTC or the computer's local zone.
// Parsing is done by hand so microsecond fractions (which some engines reject) are safe.

import type { TimeDisplay } from "../ipc";

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:?\d{2})?$/;

/** Milliseconds since the epoch for an RFC 3339 string, or NaN. */
export function parseUtc(iso: string): number {
  const m = ISO_RE.exec(iso);
  if (!m) return Number.NaN;
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, "0")) : 0;
  let t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms);
  const z = m[8];
  if (z && z !== "Z") {
    const sign = z[0] === "-" ? -1 : 1;
    const hh = Number(z.slice(1, 3));
    const mm = Number(z.slice(-2));
    t -= sign * (hh * 60 + mm) * 60_000;
  }
  return t;
}

const pad2 = (n: number) => String(n).padStart(2, "0");
const pad3 = (n: number) => String(n).padStart(3, "0");

/** HH:MM:SS.mmm (or HH:MM:SS with ms=false) in UTC or local time. */
export function formatTime(iso: string | null | undefined, mode: TimeDisplay, ms = true): string {
  if (!iso) return "—";
  const t = parseUtc(iso);
  if (Number.isNaN(t)) return iso;
  const d = new Date(t);
  const h = mode === "utc" ? d.getUTCHours() : d.getHours();
  const m = mode === "utc" ? d.getUTCMinutes() : d.getMinutes();
  const s = mode === "utc" ? d.getUTCSeconds() : d.getSeconds();
  const base = `${pad2(h)}:${pad2(m)}:${pad2(s)}`;
  return ms ? `${base}.${pad3(d.getUTCMilliseconds())}` : base;
}

/** YYYY-MM-DD HH:MM:SS in UTC or local time. */
export function formatDateTime(iso: string | null | undefined, mode: TimeDisplay): string {
  if (!iso) return "—";
  const t = parseUtc(iso);
  if (Number.isNaN(t)) return iso;
  const d = new Date(t);
  const date =
    mode === "utc"
      ? `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`
      : `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  return `${date} ${formatTime(iso, mode, false)}`;
}

export function zoneLabel(mode: TimeDisplay): string {
  return mode === "utc" ? "UTC" : "local";
}

/** "3 s ago", "4 min ago", "2 h ago". */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return "never";
  const t = parseUtc(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
}

/** Elapsed time H:MM:SS since iso. */
export function elapsed(iso: string | null | undefined, now: number, until?: string | null): string {
  if (!iso) return "—";
  const start = parseUtc(iso);
  const end = until ? parseUtc(until) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return "—";
  const s = Math.max(0, Math.floor((end - start) / 1000));
  return `${Math.floor(s / 3600)}:${pad2(Math.floor((s % 3600) / 60))}:${pad2(s % 60)}`;
}

/** "+143 ms", "−2.1 s", "no clock". */
export function formatOffset(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "no clock";
  const sign = ms > 0 ? "+" : ms < 0 ? "−" : "±";
  const a = Math.abs(ms);
  return a >= 1000 ? `${sign}${(a / 1000).toFixed(1)} s` : `${sign}${Math.round(a)} ms`;
}

/** A reader's time adjustment: "−1.500 s", "+0.250 s". */
export function formatAdjustment(ms: number): string {
  const sign = ms < 0 ? "−" : "+";
  return `${sign}${(Math.abs(ms) / 1000).toFixed(3)} s`;
}

const nf = new Intl.NumberFormat("en-US");
export function formatCount(n: number): string {
  return nf.format(n);
}

/** A local time typed by a person (HH:MM:SS[.mmm]) on the day of `refIso`, to UTC RFC 3339. */
export function timeInputToUtc(text: string, refIso: string, mode: TimeDisplay): string | null {
  const trimmed = text.trim();
  if (ISO_RE.test(trimmed)) {
    const t = parseUtc(trimmed);
    return Number.isNaN(t) ? null : new Date(t).toISOString();
  }
  const m = /^(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,3}))?$/.exec(trimmed);
  if (!m) return null;
  const ref = new Date(parseUtc(refIso));
  if (Number.isNaN(ref.getTime())) return null;
  const ms = m[4] ? Number(m[4].padEnd(3, "0")) : 0;
  const d = new Date(ref.getTime());
  if (mode === "utc") d.setUTCHours(+m[1], +m[2], +m[3], ms);
  else d.setHours(+m[1], +m[2], +m[3], ms);
  return d.toISOString();
}
