// The mock's readers: the simulated finish (bunches, duplicate reads, unknown chips, a failing
// commit keeping reads waiting), hardware readers added by spec that connect or get lost, their
// clocks, zones and adjustments, the LLRP read-back, and the reader commands.

import { READER_PROTOCOLS, type ReaderCommands, type ReaderSettingView } from "../bindings.gen";
import { isoUtc, randomHex } from "./data";
import { clone, err, type MockReader, type MockWorld } from "./world";

/** The mock computer's zone, and the zones its field offers. */
export const MOCK_COMPUTER_ZONE = "Europe/Madrid";
const MOCK_ZONES = [
  "UTC",
  "Europe/London",
  "Europe/Lisbon",
  "Europe/Madrid",
  "Europe/Paris",
  "Europe/Berlin",
  "Europe/Rome",
  "Europe/Athens",
  "Atlantic/Canary",
  "America/New_York",
  "America/Chicago",
  "America/Denver",
  "America/Los_Angeles",
  "America/Mexico_City",
  "America/Bogota",
  "America/Argentina/Buenos_Aires",
  "America/Sao_Paulo",
  "Africa/Johannesburg",
  "Asia/Kolkata",
  "Asia/Tokyo",
  "Australia/Sydney",
  "Pacific/Auckland",
];
/** Protocols whose readers send UTC (no zone applies), from the registry. */
const SENDS_UTC = new Set(READER_PROTOCOLS.filter((p) => p.carries_time && !p.local_time).map((p) => p.name));

export function addReader(w: MockWorld, name: string, spec: string, sim: boolean): MockReader {
  const params = new URLSearchParams(spec.split("?")[1] ?? "");
  const rateM = /rate=(\d+(\.\d+)?)/.exec(spec);
  // The simulated finish speaks `lines`, as in the engine (`sim:` implies the protocol).
  const protocol = params.get("protocol") ?? "lines";
  const hasClock = READER_PROTOCOLS.some((p) => p.name === protocol && p.carries_time);
  const t = w.now();
  const rd: MockReader = {
    view: {
      name,
      spec,
      protocol,
      state: sim ? "connected" : "connecting",
      last_error: null,
      warning: null,
      reads_per_sec: 0,
      rate_history: Array(12).fill(0),
      reads: 0,
      rejected: 0,
      last_read: null,
      clock_offset_ms: hasClock ? (sim ? 143 : 0) : null,
      clock_zone:
        sim || !hasClock
          ? null
          : SENDS_UTC.has(protocol)
            ? "UTC (reader sends UTC)"
            : (params.get("zone") ?? params.get("utc_offset") ?? MOCK_COMPUTER_ZONE),
      zone_settable: !sim && hasClock && !SENDS_UTC.has(protocol),
      clock_hint: null,
      proposed_zone: null,
      adjust_ms: Number(params.get("adjust_ms") ?? 0) || 0,
      settings: [],
    },
    sim,
    rate: sim && rateM ? Number(rateM[1]) : 0,
    recent: [],
    windowReads: 0,
    windowStart: t,
    frames: [],
    lastSeen: new Map(),
    recentChips: [],
    burstUntil: 0,
    nextBurstCheck: t,
    carry: 0,
    offset: hasClock ? (sim ? 143 : 0) : null,
  };
  w.readers.set(name, rd);
  return rd;
}

export function connectReader(w: MockWorld, rd: MockReader, kind: string, target: string): void {
  if (rd.view.state !== "connecting") return;
  if (kind === "serial" && !["/dev/ttyUSB0", "/dev/ttyUSB1", "/dev/ttyACM0"].includes(target)) {
    rd.view.state = "lost";
    rd.view.last_error = `${target}: no such serial port (unplugged?). Retrying every 2 s.`;
  } else if (kind === "tcp" && target.startsWith("10.")) {
    rd.view.state = "lost";
    rd.view.last_error = `connect ${target}: connection timed out. Retrying.`;
  } else {
    rd.view.state = rd.sim ? "connected" : "quiet";
    rd.view.last_error = null;
    if (rd.view.protocol === "llrp") {
      const back = llrpReadBack(rd.view.spec);
      rd.view.settings = back.settings;
      rd.view.warning = back.warning;
    }
  }
  w.emit("readers", w.readerViews());
}

function reader(w: MockWorld, name: string): MockReader {
  const rd = w.readers.get(name);
  if (!rd) throw err("not_found", `No reader called "${name}"`);
  return rd;
}

/** One step of a reader, dt ms after the last one: its rates, and the simulated finish's reads. */
export function stepReader(w: MockWorld, rd: MockReader, t: number, dt: number): void {
  const v = rd.view;
  if (t - rd.windowStart >= 5000) {
    v.rate_history = [...v.rate_history.slice(-11), Math.round((rd.windowReads / 5) * 10) / 10];
    rd.windowReads = 0;
    rd.windowStart = t;
  }
  rd.recent = rd.recent.filter((x) => t - x < 1000);
  v.reads_per_sec = rd.recent.length;
  if (!rd.sim || !["connected", "reading", "quiet"].includes(v.state) || rd.rate <= 0) {
    if (v.state === "reading" && (!v.last_read || t - Date.parse(v.last_read.at) > 10_000)) v.state = "quiet";
    return;
  }
  // Bunches: most of the time a trickle, now and then a pack arrives together.
  if (t >= rd.nextBurstCheck) {
    rd.nextBurstCheck = t + 1000;
    if (t >= rd.burstUntil && w.r() < 0.12) rd.burstUntil = t + 1500 + w.r() * 1500;
  }
  const factor = t < rd.burstUntil ? 2.6 : 0.75;
  rd.carry += (rd.rate * factor * dt) / 1000;
  let n = Math.floor(rd.carry);
  rd.carry -= n;
  if (n > 0 && v.state !== "reading") v.state = "reading";
  while (n-- > 0) {
    // A failing commit keeps the reads waiting (and retried), as the backend's capture does.
    if (w.commitError) w.captureQueued++;
    else simRead(w, rd, t);
  }
  if (v.state === "reading" && (!v.last_read || t - Date.parse(v.last_read.at) > 10_000)) v.state = "quiet";
}

function simRead(w: MockWorld, rd: MockReader, t: number): void {
  const readerTime = t + (rd.offset ?? 0);
  let chip: string;
  // A tag is often read several times as it crosses the mat.
  if (rd.recentChips.length > 0 && w.r() < 0.25) {
    chip = rd.recentChips[Math.floor(w.r() * rd.recentChips.length)];
  } else if (w.r() < 0.02) {
    chip = `E2806894000040${randomHex(w.r, 5).toUpperCase()}`;
  } else {
    chip = w.finishOrder[w.finishCursor++ % w.finishOrder.length].chip;
  }
  rd.recentChips.push(chip);
  if (rd.recentChips.length > 20) rd.recentChips.shift();
  const rawId = w.nextRawId++;
  rd.recent.push(t);
  rd.windowReads++;
  rd.view.reads++;
  rd.view.last_read = { chip, at: isoUtc(readerTime) };
  w.rawSince++;
  w.feedPending();
  const seen = rd.lastSeen.get(chip);
  const dup = seen !== undefined && readerTime - seen < w.settings.dedup_window_s * 1000;
  if (!dup) rd.lastSeen.set(chip, readerTime);
  if (rd.lastSeen.size > 5000) rd.lastSeen.clear();
  const ant = 1 + Math.floor(w.r() * 4);
  const rssi = -45 - Math.floor(w.r() * 30);
  rd.frames.push({
    at: isoUtc(t),
    hex: `aa00${chip.slice(-12).toLowerCase()}0${ant}01${isoUtc(readerTime).slice(2, 23).replace(/\D/g, "")}`,
    summary: `${dup ? "duplicate " : ""}chip ${chip} antenna ${ant} rssi ${rssi} dBm`,
  });
  if (rd.frames.length > 50) rd.frames.shift();
  if (dup) {
    w.dupSince++;
    return;
  }
  const s = w.currentSession();
  if (!s || !w.isRecording(s)) return;
  const bib = w.chipMap.get(chip) ?? null;
  w.commitPassing(s, { bib, chip, time: readerTime, source: "reader", rawReadId: rawId });
}

/** `60` (all antennas, key 0) or `1:60,2:55` → antenna → index; invalid parts are left out. */
function perAntenna(text: string | null): Map<number, number> {
  const out = new Map<number, number>();
  for (const part of (text ?? "").split(",")) {
    const [a, v] = part.includes(":") ? part.split(":") : ["0", part];
    if (/^\s*\d+\s*$/.test(a) && /^\s*\d+\s*$/.test(v)) out.set(Number(a), Number(v));
  }
  return out;
}

/**
 * What the mock LLRP reader reads back after its configuration, as the Rust conversation
 * reports it: an Impinj R420-like reader with antennas on ports 1 and 2 of 4, an 81-entry power
 * table (more is clamped) and 42 sensitivity entries, factory power 81 and sensitivity 1.
 */
export function llrpReadBack(spec: string): { settings: ReaderSettingView[]; warning: string | null } {
  const params = new URLSearchParams(spec.split("?")[1] ?? "");
  const power = perAntenna(params.get("power"));
  const sensitivity = perAntenna(params.get("sensitivity"));
  const ports = [1, 2, 3, 4];
  const connected = [1, 2];
  const settings: ReaderSettingView[] = [
    { name: "connected antennas", asked: null, applied: connected.join(", "), differs: false },
  ];
  const problems: string[] = [];
  const asked = (table: Map<number, number>, id: number) => table.get(id) ?? table.get(0) ?? null;
  for (const id of ports) {
    const p = asked(power, id);
    const s = asked(sensitivity, id);
    const rows: [string, string, number | null, number][] = [
      ["power", "transmit power", p, p === null ? 81 : Math.min(p, 81)],
      ["sensitivity", "receive sensitivity", s, s === null ? 1 : Math.min(s, 42)],
    ];
    const views = rows.map(([what, words, want, got]) => {
      const differs = want !== null && want !== got;
      if (differs) problems.push(`antenna ${id}: ${words} ${want} asked, ${got} applied`);
      return { name: `antenna ${id} ${what}`, asked: want === null ? null : String(want), applied: String(got), differs };
    });
    if (connected.includes(id) || power.has(id) || sensitivity.has(id) || views.some((v) => v.differs)) settings.push(...views);
  }
  for (const id of new Set([...power.keys(), ...sensitivity.keys()])) {
    if (id !== 0 && !ports.includes(id)) problems.push(`antenna ${id} is not on this reader`);
  }
  return { settings, warning: problems.length ? problems.join("; ") : null };
}

/** `spec` with option `key` set to `value` (or removed, for null). */
function setSpecParam(spec: string, key: string, value: string | null): string {
  const [target, query = ""] = spec.split("?");
  const kept = query.split("&").filter((p) => p && p.split("=")[0] !== key);
  if (value !== null) kept.push(`${key}=${value}`);
  return kept.length ? `${target}?${kept.join("&")}` : target;
}

export function readerHandlers(w: MockWorld): ReaderCommands {
  return {
    async reader_protocols() {
      return clone(READER_PROTOCOLS);
    },

    async reader_ports() {
      return [
        { path: "/dev/ttyUSB0", description: "CP2102 USB to UART Bridge Controller on /dev/ttyUSB0" },
        { path: "/dev/ttyUSB1", description: "FT232R USB UART (FTDI) on /dev/ttyUSB1" },
        { path: "/dev/ttyACM0", description: "USB-CDC serial (Chafon UHF desktop reader) on /dev/ttyACM0" },
      ];
    },

    async reader_add({ name, spec }) {
      const n = name.trim();
      if (!n) throw err("invalid", "The reader needs a name");
      if (w.readers.has(n)) throw err("invalid", `A reader called "${n}" already exists`);
      const m = /^(serial|tcp|sim):([^?]+)(\?(.*))?$/.exec(spec.trim());
      if (!m) throw err("invalid", `"${spec}" is not a reader spec (serial:PATH?protocol=… or tcp:HOST:PORT?protocol=…)`);
      const params = new URLSearchParams(m[4] ?? "");
      const protocol = params.get("protocol");
      if (m[1] !== "sim" && !protocol) throw err("invalid", "The spec needs ?protocol=…");
      const known = READER_PROTOCOLS.find((p) => p.name === protocol);
      if (m[1] !== "sim" && !known) throw err("invalid", `Unknown protocol "${protocol}"`);
      if (known && !known.transports.includes(m[1])) throw err("invalid", `A ${protocol} reader is not reached over ${m[1]}`);
      if (m[1] === "tcp" && !/^[^:]+:\d{1,5}$/.test(m[2])) throw err("invalid", "A network reader needs HOST:PORT");
      const rd = addReader(w, n, spec.trim(), m[1] === "sim");
      rd.view.state = "connecting";
      setTimeout(() => connectReader(w, rd, m[1], m[2]), w.timers.length ? 600 : 0);
      return clone(rd.view);
    },

    async reader_remove({ name }) {
      reader(w, name);
      w.readers.delete(name);
      w.emit("readers", w.readerViews());
    },

    async reader_start({ name }) {
      const rd = reader(w, name);
      if (rd.view.state === "stopped") {
        rd.view.state = "connecting";
        const m = /^(serial|tcp|sim):([^?]+)/.exec(rd.view.spec);
        setTimeout(() => connectReader(w, rd, m?.[1] ?? "sim", m?.[2] ?? ""), w.timers.length ? 400 : 0);
      }
      w.emit("readers", w.readerViews());
      return clone(rd.view);
    },

    async reader_stop({ name }) {
      const rd = reader(w, name);
      rd.view.state = "stopped";
      rd.view.reads_per_sec = 0;
      w.emit("readers", w.readerViews());
      return clone(rd.view);
    },

    async reader_set_clock({ name }) {
      const rd = reader(w, name);
      if (rd.offset === null) throw err("invalid", `${name} has no clock of its own (it is stamped with this computer's time)`);
      if (rd.view.state === "lost" || rd.view.state === "stopped") throw err("conflict", `${name} is not connected`);
      rd.offset = Math.round((w.r() - 0.5) * 4);
      rd.view.clock_offset_ms = rd.offset;
      w.emit("readers", w.readerViews());
      return clone(rd.view);
    },

    async reader_frames({ name }) {
      return clone(reader(w, name).frames);
    },

    async reader_zones() {
      return { computer: MOCK_COMPUTER_ZONE, zones: [...MOCK_ZONES].sort() };
    },

    async reader_set_zone({ name, zone }) {
      const rd = reader(w, name);
      if (!rd.view.zone_settable) {
        throw err("conflict", `reader \`${name}\` does not send local time: a zone changes nothing`);
      }
      const z = zone.trim();
      if (z && !MOCK_ZONES.includes(z) && !/^[+-]\d{2}:\d{2}$/.test(z)) {
        throw err(
          "invalid",
          `zone: unknown time zone "${z}": use an IANA name such as Europe/Madrid, or an offset such as +02:00`,
        );
      }
      rd.view.spec = setSpecParam(rd.view.spec, "zone", z || null);
      rd.view.clock_zone = z || MOCK_COMPUTER_ZONE;
      // The mock's reader clocks agree with the computer once read in the zone proposed.
      if (z && z === rd.view.proposed_zone) {
        rd.offset = 0;
        rd.view.clock_offset_ms = 0;
      }
      rd.view.clock_hint = null;
      rd.view.proposed_zone = null;
      w.emit("readers", w.readerViews());
      return clone(rd.view);
    },

    async reader_adjust({ name, ms }) {
      const rd = reader(w, name);
      if (!/^(serial|tcp):/.test(rd.view.spec)) {
        throw err("conflict", `\`${name}\` is not timing hardware: it has no clock zone or time adjustment`);
      }
      if (!Number.isInteger(ms) || Math.abs(ms) > 3_600_000) {
        throw err("invalid", `adjust_ms: ${ms} ms is not whole milliseconds within an hour`);
      }
      rd.view.adjust_ms = ms;
      rd.view.spec = setSpecParam(rd.view.spec, "adjust_ms", ms === 0 ? null : String(ms));
      w.emit("readers", w.readerViews());
      return clone(rd.view);
    },
  };
}

/** Test hooks of the readers domain. */
export function readerControls(w: MockWorld) {
  return {
    /** Reads per second of every simulated reader. */
    setRate(perSecond: number): void {
      for (const rd of w.readers.values()) if (rd.sim) rd.rate = Math.max(0, perSecond);
    },

    /** Make capture's commits fail (disk full, database locked) until called with null; reads wait. */
    failCommits(reason: string | null = "database or disk is full"): void {
      w.commitError = reason;
      if (reason === null) {
        const rd = [...w.readers.values()].find((r) => r.sim);
        const n = w.captureQueued;
        w.captureQueued = 0;
        if (rd) for (let i = 0; i < n; i++) simRead(w, rd, w.now());
      }
      w.emitStatus(true);
    },

    /** The reader's clock disagrees with the computer's (with the hint the backend gives). */
    setReaderClock(name: string, offsetMs: number, hint: string | null, proposedZone: string | null): void {
      const rd = reader(w, name);
      rd.offset = offsetMs;
      rd.view.clock_offset_ms = offsetMs;
      rd.view.clock_hint = hint;
      rd.view.proposed_zone = proposedZone;
      w.emit("readers", w.readerViews());
    },
  };
}
