// The mock's app commands: app_state, settings and the API key (validated as the backend does),
// the participants import (raw bytes, decoded as the backend decodes them) and the CSV export.

import type { AppCommands, ImportReport, KeyStorage } from "../bindings.gen";
import { chipForBib, isoUtc, type Runner } from "./data";
import { BIB_RE, clone, err, type MockWorld } from "./world";

/** Bytes of a text file as the backend decodes them: BOM → UTF-8/UTF-16, else UTF-8, else Windows-1252. */
export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder("utf-8").decode(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}

function isLoopback(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === "127.0.0.1" || h === "localhost" || h === "[::1]" || h === "::1";
  } catch {
    return false;
  }
}

function keyStorage(w: MockWorld): KeyStorage {
  if (!w.apiKey) return { kind: "none" };
  if (w.keyKind === "file")
    return {
      kind: "file",
      reason:
        "No Secret Service on this system (D-Bus is not running), so the key is in an encrypted file in the app data folder",
    };
  return { kind: "keychain" };
}

export function appHandlers(w: MockWorld): AppCommands {
  return {
    async app_state() {
      return clone({
        device: w.currentDevice(),
        session: w.currentSession(),
        sync: w.syncStatus(),
        readers: w.readerViews(),
        settings: w.settings,
        key: keyStorage(w),
        queued: w.queue,
        participants_loaded: w.participants.size > 0,
        capture: w.captureStatus(),
        warnings: [],
        version: "0.1.0-mock",
      });
    },

    async settings_set({ settings: s }) {
      // As the backend: every message names the field; nothing is kept on a refusal.
      if (!(s.scale >= 0.75 && s.scale <= 2)) throw err("invalid", "scale: the UI scale must be 0.75–2");
      if (!(s.dedup_window_s >= 0 && s.dedup_window_s <= 3600))
        throw err("invalid", "dedup_window_s: the de-duplication window must be 0–3600 s");
      const url = s.api_url.trim().replace(/\/+$/, "");
      if (!/^https?:\/\/[^\s/]+/.test(url)) throw err("invalid", "api_url: the API URL must start with http:// or https://");
      if (url.startsWith("http://") && !isLoopback(url))
        throw err("invalid", "api_url: https is required for anything but this computer (the key would travel in clear)");
      for (const [field, v] of [
        ["operator", s.operator],
        ["station", s.station],
      ] as const) {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
        if (v.trim().length > 64 || /[\u0000-\u001f\u007f]/.test(v))
          throw err("invalid", `${field}: at most 64 characters, no control characters`);
      }
      w.settings = clone({ ...s, api_url: url });
      return clone(w.settings);
    },

    async api_key_set({ key }) {
      const k = key.trim();
      if (!k) throw err("invalid", "api_key: the API key is empty");
      if (k.length < 8 || /\s/.test(k) || /[^\x21-\x7e]/.test(k))
        throw err("invalid", "api_key: an API key is printable ASCII without spaces (check what was pasted)");
      w.apiKey = k;
      w.authBroken = false;
      w.stopped = null;
      w.lastError = null;
      w.lastErrorCode = null;
      w.emitStatus(true);
      return keyStorage(w);
    },

    async api_key_clear() {
      w.apiKey = null;
      w.emitStatus(true);
      return keyStorage(w);
    },

    async participants_import(bytes) {
      const lines = decodeText(bytes).split(/\r?\n/);
      let accepted = 0;
      const rejected: ImportReport["rejected"] = [];
      const seen = new Set<string>();
      let at = { bib: 0, name: 1, chip: 2, category: -1, wave: -1 };
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i].trim();
        if (!line) continue;
        const cols = line.split(/[;,\t]/).map((c) => c.trim().replace(/^"|"$/g, ""));
        if (i === 0 && cols.some((c) => /^bib$/i.test(c))) {
          // A header row names the columns (as timing-core reads them); without one: bib, name, chip.
          const find = (...names: string[]) => cols.findIndex((c) => names.includes(c.toLowerCase()));
          at = {
            bib: find("bib"),
            name: find("name"),
            chip: find("chip"),
            category: find("category", "class", "age_group"),
            wave: find("wave", "start", "start_group"),
          };
          continue;
        }
        const col = (k: keyof typeof at) => (at[k] >= 0 ? cols[at[k]] : undefined);
        const [bib, name, chip] = [col("bib"), col("name"), col("chip")];
        let why: string | null = null;
        if (!bib) why = "no bib";
        else if (!BIB_RE.test(bib)) why = `"${bib}" is not a bib`;
        else if (seen.has(bib)) why = `bib ${bib} appears twice`;
        else if (chip && !/^[0-9A-Fa-f]{4,32}$/.test(chip)) why = `chip "${chip}" is not hex`;
        if (why || !bib) {
          rejected.push([i + 1, why ?? "no bib"]);
          continue;
        }
        seen.add(bib);
        const ru: Runner = {
          bib,
          name: name ?? "",
          chip: (chip || chipForBib(bib)).toUpperCase(),
          category: col("category") || null,
          wave: col("wave") ?? "",
        };
        w.participants.set(bib, ru);
        w.chipMap.set(ru.chip, bib);
        accepted++;
      }
      if (accepted === 0 && rejected.length === 0) throw err("invalid", "The file has no rows");
      return { accepted, rejected };
    },

    async export_csv({ what }) {
      const s = w.currentSession();
      if (!s) throw err("no_open_session", "No session to export");
      const stamp = isoUtc(w.now()).slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
      return `/home/timer/.local/share/rufus-timing-console/exports/session-${s.id}-${what}-${stamp}.csv`;
    },
  };
}

/** Test hooks of the app domain. */
export function appControls(w: MockWorld) {
  return {
    /** The OS clock jumped by ms. */
    clockJump(ms: number): void {
      w.lastJumpMs = ms;
      w.emit("clock", w.clockStatus());
    },
  };
}
